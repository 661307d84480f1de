package dev.inferencebudget.controller.decision;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Parameters of the load layer (see {@link LoadLayer} for how each is used and how they differ from
 * Knative's KPA).
 *
 * @param targetInFlightPerReplica requests one replica should serve concurrently
 * @param targetQueueDepthPerReplica requests allowed to wait (queued or held) per replica
 * @param targetTimeToFirstToken when present, a stable-window average above it asks for more
 *     replicas in proportion
 * @param stableWindow averaging window for normal operation (KPA: 60s)
 * @param panicWindow short averaging window that detects bursts (KPA: 6s)
 * @param panicThresholdPercent panic starts when the panic-window demand reaches this share of the
 *     ready replicas (KPA: 200)
 * @param scaleDownDelay a scale-down happens only when the recommendation stayed lower for this
 *     long (KPA: scale-down-delay, default 0)
 * @param maxScaleUpRate at most {@code ceil(rate * max(1, ready))} replicas per decision (KPA:
 *     max-scale-up-rate, 1000)
 */
public record ScalingSpec(
    double targetInFlightPerReplica,
    double targetQueueDepthPerReplica,
    Optional<Duration> targetTimeToFirstToken,
    Duration stableWindow,
    Duration panicWindow,
    int panicThresholdPercent,
    Duration scaleDownDelay,
    double maxScaleUpRate) {

  public ScalingSpec {
    Objects.requireNonNull(targetTimeToFirstToken, "targetTimeToFirstToken");
    Objects.requireNonNull(stableWindow, "stableWindow");
    Objects.requireNonNull(panicWindow, "panicWindow");
    Objects.requireNonNull(scaleDownDelay, "scaleDownDelay");
    if (!(targetInFlightPerReplica > 0)) {
      throw new IllegalArgumentException(
          "targetInFlightPerReplica = " + targetInFlightPerReplica + ", must be > 0");
    }
    if (!(targetQueueDepthPerReplica > 0)) {
      throw new IllegalArgumentException(
          "targetQueueDepthPerReplica = " + targetQueueDepthPerReplica + ", must be > 0");
    }
    targetTimeToFirstToken.ifPresent(
        t -> {
          if (t.isNegative() || t.isZero()) {
            throw new IllegalArgumentException(
                "targetTimeToFirstToken = " + t + ", must be positive");
          }
        });
    if (stableWindow.isNegative() || stableWindow.isZero()) {
      throw new IllegalArgumentException("stableWindow = " + stableWindow + ", must be positive");
    }
    if (panicWindow.isNegative()
        || panicWindow.isZero()
        || panicWindow.compareTo(stableWindow) > 0) {
      throw new IllegalArgumentException(
          "panicWindow = " + panicWindow + ", must be positive and at most stableWindow");
    }
    if (panicThresholdPercent <= 100) {
      throw new IllegalArgumentException(
          "panicThresholdPercent = " + panicThresholdPercent + ", must be greater than 100");
    }
    if (scaleDownDelay.isNegative()) {
      throw new IllegalArgumentException("scaleDownDelay = " + scaleDownDelay + ", must be >= 0");
    }
    if (!(maxScaleUpRate > 1.0)) {
      throw new IllegalArgumentException(
          "maxScaleUpRate = " + maxScaleUpRate + ", must be greater than 1.0");
    }
  }

  /**
   * Every default in one place: KPA's windows, threshold and rate; a scale-down delay of two
   * minutes because an LLM replica costs minutes to load again (KPA's default is 0).
   */
  public static ScalingSpec defaults() {
    return new ScalingSpec(
        4,
        8,
        Optional.empty(),
        Duration.ofSeconds(60),
        Duration.ofSeconds(6),
        200,
        Duration.ofMinutes(2),
        1000.0);
  }

  public ScalingSpec withTargets(double inFlightPerReplica, double queueDepthPerReplica) {
    return new ScalingSpec(
        inFlightPerReplica,
        queueDepthPerReplica,
        targetTimeToFirstToken,
        stableWindow,
        panicWindow,
        panicThresholdPercent,
        scaleDownDelay,
        maxScaleUpRate);
  }

  public ScalingSpec withScaleDownDelay(Duration delay) {
    return new ScalingSpec(
        targetInFlightPerReplica,
        targetQueueDepthPerReplica,
        targetTimeToFirstToken,
        stableWindow,
        panicWindow,
        panicThresholdPercent,
        delay,
        maxScaleUpRate);
  }

  public ScalingSpec withTargetTimeToFirstToken(Duration target) {
    return new ScalingSpec(
        targetInFlightPerReplica,
        targetQueueDepthPerReplica,
        Optional.of(target),
        stableWindow,
        panicWindow,
        panicThresholdPercent,
        scaleDownDelay,
        maxScaleUpRate);
  }
}
