package dev.inferencebudget.controller.decision;

import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * Per-model histogram of idle gaps for the adaptive keep-alive, immutable: {@link #record} returns
 * a new histogram. Hand-written because it is a few arrays and percentiles; a metrics library's
 * histogram would bring a clock or mutable state into the pure core.
 *
 * @param bucketWidth width of each bucket
 * @param counts gaps per bucket; bucket {@code i} holds gaps in {@code [i*w, (i+1)*w)}
 * @param outOfBounds gaps at or beyond {@code counts.length * bucketWidth}
 */
public record KeepAliveHistogram(Duration bucketWidth, long[] counts, long outOfBounds) {

  /** Keeps 1.1 * 240000 ms at 264000 ms, not 264001: the margin is a decimal fraction. */
  private static final double ROUNDING = 1e-6;

  public KeepAliveHistogram {
    Objects.requireNonNull(bucketWidth, "bucketWidth");
    counts = Objects.requireNonNull(counts, "counts").clone();
    if (bucketWidth.isZero() || bucketWidth.isNegative() || counts.length == 0) {
      throw new IllegalArgumentException("bucketWidth must be positive and counts non-empty");
    }
    if (outOfBounds < 0 || Arrays.stream(counts).anyMatch(c -> c < 0)) {
      throw new IllegalArgumentException("counts must be >= 0");
    }
  }

  /** An empty histogram shaped by the policy. */
  public static KeepAliveHistogram empty(KeepAlivePolicy.Adaptive policy) {
    return new KeepAliveHistogram(policy.bucketWidth(), new long[policy.bucketCount()], 0);
  }

  /** Whether this histogram was shaped by {@code policy} (else it is reset). */
  boolean fits(KeepAlivePolicy.Adaptive policy) {
    return bucketWidth.equals(policy.bucketWidth()) && counts.length == policy.bucketCount();
  }

  @Override
  public long[] counts() {
    return counts.clone();
  }

  /** This histogram with one more gap. */
  public KeepAliveHistogram record(Duration gap) {
    long index = Math.max(0, gap.toMillis()) / bucketWidth.toMillis();
    if (index >= counts.length) {
      return new KeepAliveHistogram(bucketWidth, counts, outOfBounds + 1);
    }
    long[] next = counts.clone();
    next[(int) index]++;
    return new KeepAliveHistogram(bucketWidth, next, outOfBounds);
  }

  public long inRange() {
    long sum = 0;
    for (long c : counts) {
      sum += c;
    }
    return sum;
  }

  /**
   * The learned window, or empty when the histogram is not representative for {@code policy} (then
   * the policy's fixed fallback applies).
   */
  public Optional<KeepAliveWindow> window(KeepAlivePolicy.Adaptive policy) {
    long inRange = inRange();
    long total = inRange + outOfBounds;
    if (inRange < policy.minSamples()) {
      return Optional.empty();
    }
    if (outOfBounds * 100.0 > policy.maxOutOfBoundsPercent() * total) {
      return Optional.empty();
    }
    if (bucketCountCv() < policy.minBucketCountCv()) {
      return Optional.empty();
    }
    double margin = policy.marginPercent() / 100.0;
    long width = bucketWidth.toMillis();
    // The tail: the upper edge of the bucket holding the keep-alive percentile, widened.
    long tailMillis =
        (long)
            Math.ceil((bucket(policy.keepAlivePercentile()) + 1) * width * (1 + margin) - ROUNDING);
    long headMillis = 0;
    if (policy.prewarm()) {
      // The head: the lower edge of the bucket holding the pre-warm percentile, narrowed.
      headMillis =
          (long) Math.floor(bucket(policy.prewarmPercentile()) * width * (1 - margin) + ROUNDING);
    }
    return Optional.of(
        new KeepAliveWindow(Duration.ofMillis(headMillis), Duration.ofMillis(tailMillis)));
  }

  /** The bucket that holds the {@code percentile}-th in-range gap. */
  private int bucket(double percentile) {
    long inRange = inRange();
    long rank = Math.max(1, (long) Math.ceil(percentile / 100.0 * inRange));
    long seen = 0;
    for (int i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return i;
      }
    }
    return counts.length - 1;
  }

  /** Coefficient of variation of the bucket counts: low when gaps spread evenly (unpredictable). */
  double bucketCountCv() {
    double mean = (double) inRange() / counts.length;
    if (mean == 0) {
      return 0;
    }
    double sq = 0;
    for (long c : counts) {
      sq += (c - mean) * (c - mean);
    }
    return Math.sqrt(sq / counts.length) / mean;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KeepAliveHistogram h
        && bucketWidth.equals(h.bucketWidth)
        && outOfBounds == h.outOfBounds
        && Arrays.equals(counts, h.counts);
  }

  @Override
  public int hashCode() {
    return Objects.hash(bucketWidth, outOfBounds, Arrays.hashCode(counts));
  }

  @Override
  public String toString() {
    return "KeepAliveHistogram[bucketWidth="
        + bucketWidth
        + ", inRange="
        + inRange()
        + ", outOfBounds="
        + outOfBounds
        + "]";
  }

  /**
   * A learned keep-alive: unloaded for {@code prewarmAfter} after going idle (zero: never unloaded
   * early), then loaded until {@code keepAlive} after going idle.
   */
  public record KeepAliveWindow(Duration prewarmAfter, Duration keepAlive) {
    public KeepAliveWindow {
      Objects.requireNonNull(prewarmAfter, "prewarmAfter");
      Objects.requireNonNull(keepAlive, "keepAlive");
    }
  }
}
