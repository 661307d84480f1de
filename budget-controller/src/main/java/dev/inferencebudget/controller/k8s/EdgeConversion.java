package dev.inferencebudget.controller.k8s;

import dev.inferencebudget.controller.api.v1alpha1.BudgetedModelSpec;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudgetSpec;
import dev.inferencebudget.controller.decision.BudgetSpec;
import dev.inferencebudget.controller.decision.KeepAlivePolicy;
import dev.inferencebudget.controller.decision.ModelSpec;
import dev.inferencebudget.controller.decision.ScalingSpec;
import dev.inferencebudget.controller.decision.Schedule;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

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
