package dev.inferencebudget.controller.k8s;

import dev.inferencebudget.controller.api.v1alpha1.BudgetedModelSpec;
import dev.inferencebudget.controller.api.v1alpha1.IdleGapHistogram;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudgetSpec;
import dev.inferencebudget.controller.decision.BudgetSpec;
import dev.inferencebudget.controller.decision.KeepAliveHistogram;
import dev.inferencebudget.controller.decision.KeepAlivePolicy;
import dev.inferencebudget.controller.decision.ModelSpec;
import dev.inferencebudget.controller.decision.ScalingSpec;
import dev.inferencebudget.controller.decision.Schedule;
import java.time.Duration;
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

  /** The learned idle gaps as status keeps them (sparse). */
  static IdleGapHistogram idleGaps(KeepAliveHistogram h) {
    Map<String, Long> counts = new TreeMap<>();
    long[] c = h.counts();
    for (int i = 0; i < c.length; i++) {
      if (c[i] > 0) {
        counts.put(Integer.toString(i), c[i]);
      }
    }
    return new IdleGapHistogram(h.bucketWidth().toSeconds(), c.length, counts, h.outOfBounds());
  }

  /**
   * The histogram a status kept; empty when it is absent or malformed (the decision core then
   * starts learning afresh, which is safe).
   */
  static Optional<KeepAliveHistogram> keepAliveHistogram(IdleGapHistogram s) {
    if (s == null || s.bucketWidthSeconds() == null || s.buckets() == null) {
      return Optional.empty();
    }
    try {
      long[] counts = new long[s.buckets()];
      s.counts().forEach((index, count) -> counts[Integer.parseInt(index)] = count);
      return Optional.of(
          new KeepAliveHistogram(
              Duration.ofSeconds(s.bucketWidthSeconds()),
              counts,
              s.outOfRange() == null ? 0 : s.outOfRange()));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  static ModelSpec modelSpec(String key, String namespace, BudgetedModelSpec spec) {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(spec.budgetRef(), "spec.budgetRef");
    Duration idle = spec.scaleToZero().idleTimeoutDuration();
    KeepAlivePolicy keepAlive =
        switch (spec.scaleToZero().keepAlive()) {
          case FIXED -> new KeepAlivePolicy.Fixed(idle);
          default -> KeepAlivePolicy.Adaptive.defaults(idle);
        };
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
