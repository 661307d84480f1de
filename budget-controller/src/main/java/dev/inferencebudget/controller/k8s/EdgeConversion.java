package dev.inferencebudget.controller.k8s;

import dev.inferencebudget.controller.api.v1alpha1.AdaptiveKeepAlive;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModelSpec;
import dev.inferencebudget.controller.api.v1alpha1.IdleGapHistogram;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudgetSpec;
import dev.inferencebudget.controller.api.v1alpha1.ScaleToZero;
import dev.inferencebudget.controller.decision.BudgetSpec;
import dev.inferencebudget.controller.decision.KeepAliveHistogram;
import dev.inferencebudget.controller.decision.KeepAlivePolicy;
import dev.inferencebudget.controller.decision.ModelSpec;
import dev.inferencebudget.controller.decision.ScalingSpec;
import dev.inferencebudget.controller.decision.Schedule;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Converts the custom resources' specs into the decision core's values at the edge. Throws {@link
 * IllegalArgumentException} naming the field when a spec cannot be used.
 */
final class EdgeConversion {

  private EdgeConversion() {}

  static BudgetSpec budgetSpec(String key, InferenceBudgetSpec spec) {
    Objects.requireNonNull(spec, "spec");
    return new BudgetSpec(
        key,
        spec.gpuMemoryBytes(),
        spec.protectionThreshold(),
        spec.protectedPriority(),
        switch (spec.preemption()) {
          case NEVER -> BudgetSpec.Preemption.NEVER;
          default -> BudgetSpec.Preemption.IDLE_LOWER_PRIORITY;
        });
  }

  /**
   * The learned idle gaps as status keeps them (sparse): the width in whole seconds when it is one,
   * else in milliseconds (the decision core counts gaps in whole milliseconds).
   */
  static IdleGapHistogram idleGaps(KeepAliveHistogram h) {
    Map<String, Long> counts = new TreeMap<>();
    long[] c = h.counts();
    for (int i = 0; i < c.length; i++) {
      if (c[i] > 0) {
        counts.put(Integer.toString(i), c[i]);
      }
    }
    long widthMillis = h.bucketWidth().toMillis();
    boolean wholeSeconds = widthMillis % 1000 == 0;
    return new IdleGapHistogram(
        wholeSeconds ? widthMillis / 1000 : null,
        c.length,
        counts,
        h.outOfBounds(),
        wholeSeconds ? null : widthMillis);
  }

  /**
   * The histogram a status kept; empty when it is absent or malformed (the decision core then
   * starts learning afresh, which is safe). It keeps the width it was learned with: when that is
   * not the spec's, the decision core discards it rather than read its buckets at another width.
   */
  static Optional<KeepAliveHistogram> keepAliveHistogram(IdleGapHistogram s) {
    if (s == null || s.buckets() == null) {
      return Optional.empty();
    }
    Long widthMillis =
        s.bucketWidthMillis() != null
            ? s.bucketWidthMillis()
            : s.bucketWidthSeconds() == null ? null : s.bucketWidthSeconds() * 1000;
    if (widthMillis == null) {
      return Optional.empty();
    }
    try {
      long[] counts = new long[s.buckets()];
      s.counts().forEach((index, count) -> counts[Integer.parseInt(index)] = count);
      return Optional.of(
          new KeepAliveHistogram(
              Duration.ofMillis(widthMillis), counts, s.outOfRange() == null ? 0 : s.outOfRange()));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * The keep-alive of {@code scaleToZero}. The adaptive histogram's time scale is checked here too
   * (an object the API server did not validate), naming the field; widths are whole milliseconds,
   * the decision core's resolution, so that a histogram kept in status has exactly the spec's
   * width.
   */
  static KeepAlivePolicy keepAlive(ScaleToZero scaleToZero) {
    Duration idle = scaleToZero.idleTimeoutDuration();
    if (scaleToZero.keepAlive()
        == dev.inferencebudget.controller.api.v1alpha1.KeepAlivePolicy.FIXED) {
      return new KeepAlivePolicy.Fixed(idle);
    }
    AdaptiveKeepAlive a = scaleToZero.adaptive();
    Duration width = a.bucketWidthDuration().truncatedTo(ChronoUnit.MILLIS);
    Duration range = a.histogramRangeDuration().truncatedTo(ChronoUnit.MILLIS);
    if (width.isZero()) {
      throw new IllegalArgumentException(
          "spec.scaleToZero.adaptive.bucketWidth = " + a.bucketWidth() + ", must be at least 1ms");
    }
    if (range.compareTo(width) < 0) {
      throw new IllegalArgumentException(
          "spec.scaleToZero.adaptive.histogramRange = "
              + a.histogramRange()
              + ", must be at least bucketWidth ("
              + a.bucketWidth()
              + ")");
    }
    long buckets = range.toMillis() / width.toMillis();
    if (buckets > AdaptiveKeepAlive.MAX_BUCKETS) {
      throw new IllegalArgumentException(
          "spec.scaleToZero.adaptive.histogramRange = "
              + a.histogramRange()
              + " is "
              + buckets
              + " buckets of bucketWidth "
              + a.bucketWidth()
              + ", must be at most "
              + AdaptiveKeepAlive.MAX_BUCKETS);
    }
    KeepAlivePolicy.Adaptive d = KeepAlivePolicy.Adaptive.defaults(idle);
    return new KeepAlivePolicy.Adaptive(
        d.fallbackIdleTimeout(),
        range,
        width,
        d.minSamples(),
        d.keepAlivePercentile(),
        d.prewarmPercentile(),
        d.prewarm(),
        d.marginPercent(),
        d.minBucketCountCv(),
        d.maxOutOfBoundsPercent());
  }

  static ModelSpec modelSpec(String key, String namespace, BudgetedModelSpec spec) {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(spec.budgetRef(), "spec.budgetRef");
    KeepAlivePolicy keepAlive = keepAlive(spec.scaleToZero());
    var s = spec.scaling();
    ScalingSpec defaults = ScalingSpec.defaults();
    ScalingSpec scaling =
        new ScalingSpec(
            s.targetInFlightPerReplica(),
            Math.max(1, s.targetQueueDepthPerReplica()),
            s.targetTimeToFirstTokenDuration(),
            s.stableWindowDuration(),
            s.panicWindowDuration(),
            s.panicThreshold(),
            s.scaleDownDelayDuration(),
            s.maxScaleUpRate() == null ? defaults.maxScaleUpRate() : s.maxScaleUpRate());
    List<Schedule> schedules = new ArrayList<>();
    for (var sch : spec.schedules()) {
      schedules.add(
          new Schedule(
              sch.name() == null ? "" : sch.name(),
              sch.daysOfWeek(),
              sch.startTime(),
              sch.endTime(),
              sch.zoneId(),
              sch.minReplicas()));
    }
    return new ModelSpec(
        key,
        namespace + "/" + spec.budgetRef().name(),
        spec.gpuMemoryPerReplicaBytes(),
        spec.priority(),
        spec.replicas().min(),
        spec.replicas().max(),
        keepAlive,
        scaling,
        schedules);
  }
}
