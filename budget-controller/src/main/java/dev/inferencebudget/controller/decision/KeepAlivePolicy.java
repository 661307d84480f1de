package dev.inferencebudget.controller.decision;

import java.time.Duration;
import java.util.Objects;

/**
 * How long a model keeps its replicas after it went idle (no request in flight, queued or held).
 */
public sealed interface KeepAlivePolicy permits KeepAlivePolicy.Fixed, KeepAlivePolicy.Adaptive {

  /** The keep-alive used when nothing has been learned. */
  Duration fallbackIdleTimeout();

  /** Scale to the floor after {@code idleTimeout} without requests. */
  record Fixed(Duration idleTimeout) implements KeepAlivePolicy {
    public Fixed {
      Objects.requireNonNull(idleTimeout, "idleTimeout");
      if (idleTimeout.isNegative()) {
        throw new IllegalArgumentException("idleTimeout = " + idleTimeout + ", must be >= 0");
      }
    }

    @Override
    public Duration fallbackIdleTimeout() {
      return idleTimeout;
    }
  }

  /**
   * The hybrid histogram policy of Shahrad et al., "Serverless in the Wild" (ATC 2020): a per-model
   * histogram of idle gaps (time from going idle to the next request) gives the keep-alive window
   * from a high percentile (the tail) and, optionally, a pre-warm delay from a low percentile (the
   * head). When the histogram is not representative the policy falls back to {@code
   * fallbackIdleTimeout}, like the paper's "standard keep-alive".
   *
   * @param fallbackIdleTimeout used with too few samples, too many out-of-range gaps, or a
   *     histogram whose bucket counts are too flat (low coefficient of variation)
   * @param histogramRange gaps at or beyond this are out of bounds (paper: 4 hours)
   * @param bucketWidth histogram resolution (paper: 1 minute)
   * @param minSamples fewer in-range samples than this is not representative
   * @param keepAlivePercentile the tail percentile (paper: 99)
   * @param prewarmPercentile the head percentile (paper: 5)
   * @param prewarm whether to unload right after going idle and load again at the head (off by
   *     default: an LLM replica takes minutes to load, so a wrong head costs a visible cold start)
   * @param marginPercent widens the window: tail * (1 + m), head * (1 - m) (paper: 10)
   * @param minBucketCountCv the least coefficient of variation of bucket counts that counts as
   *     representative (paper: 2)
   * @param maxOutOfBoundsPercent more out-of-range gaps than this share is not representative (the
   *     paper switches to ARIMA there; we fall back to the fixed timeout)
   */
  record Adaptive(
      Duration fallbackIdleTimeout,
      Duration histogramRange,
      Duration bucketWidth,
      int minSamples,
      double keepAlivePercentile,
      double prewarmPercentile,
      boolean prewarm,
      double marginPercent,
      double minBucketCountCv,
      double maxOutOfBoundsPercent)
      implements KeepAlivePolicy {
    public Adaptive {
      Objects.requireNonNull(fallbackIdleTimeout, "fallbackIdleTimeout");
      Objects.requireNonNull(histogramRange, "histogramRange");
      Objects.requireNonNull(bucketWidth, "bucketWidth");
      if (fallbackIdleTimeout.isNegative()) {
        throw new IllegalArgumentException(
            "fallbackIdleTimeout = " + fallbackIdleTimeout + ", must be >= 0");
      }
      if (bucketWidth.isNegative() || bucketWidth.isZero()) {
        throw new IllegalArgumentException("bucketWidth = " + bucketWidth + ", must be positive");
      }
      if (histogramRange.compareTo(bucketWidth) < 0
          || histogramRange.toMillis() / bucketWidth.toMillis() > 100_000) {
        throw new IllegalArgumentException(
            "histogramRange = "
                + histogramRange
                + ", must be at least bucketWidth and at most 100000 buckets");
      }
      if (minSamples < 1) {
        throw new IllegalArgumentException("minSamples = " + minSamples + ", must be >= 1");
      }
      if (!(keepAlivePercentile > 0 && keepAlivePercentile <= 100)) {
        throw new IllegalArgumentException(
            "keepAlivePercentile = " + keepAlivePercentile + ", must be in (0, 100]");
      }
      if (!(prewarmPercentile >= 0 && prewarmPercentile < keepAlivePercentile)) {
        throw new IllegalArgumentException(
            "prewarmPercentile = " + prewarmPercentile + ", must be in [0, keepAlivePercentile)");
      }
      if (!(marginPercent >= 0 && marginPercent < 100)) {
        throw new IllegalArgumentException(
            "marginPercent = " + marginPercent + ", must be in [0, 100)");
      }
      if (!(minBucketCountCv >= 0)) {
        throw new IllegalArgumentException(
            "minBucketCountCv = " + minBucketCountCv + ", must be >= 0");
      }
      if (!(maxOutOfBoundsPercent >= 0 && maxOutOfBoundsPercent <= 100)) {
        throw new IllegalArgumentException(
            "maxOutOfBoundsPercent = " + maxOutOfBoundsPercent + ", must be in [0, 100]");
      }
    }

    /** The paper's parameters (4h range, 1-minute buckets, 5th/99th percentiles, 10% margin). */
    public static Adaptive defaults(Duration fallbackIdleTimeout) {
      return new Adaptive(
          fallbackIdleTimeout,
          Duration.ofHours(4),
          Duration.ofMinutes(1),
          10,
          99,
          5,
          false,
          10,
          2.0,
          50);
    }

    public Adaptive withPrewarm(boolean enabled) {
      return new Adaptive(
          fallbackIdleTimeout,
          histogramRange,
          bucketWidth,
          minSamples,
          keepAlivePercentile,
          prewarmPercentile,
          enabled,
          marginPercent,
          minBucketCountCv,
          maxOutOfBoundsPercent);
    }

    int bucketCount() {
      return (int) (histogramRange.toMillis() / bucketWidth.toMillis());
    }
  }
}
