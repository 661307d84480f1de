package dev.inferencebudget.controller.decision;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A model as the decision core needs it (converted from a {@code BudgetedModel} at the shell's
 * edge).
 *
 * @param key namespace/name of the model
 * @param budgetKey namespace/name of the budget its replicas reserve memory from
 * @param gpuMemoryPerReplicaBytes memory one replica holds from creation until its pod is gone
 * @param priority higher is served first
 * @param minReplicas the floor (the budget may still refuse it)
 * @param maxReplicas the ceiling
 * @param keepAlive when an idle model scales to its floor
 * @param scaling load-layer parameters
 * @param schedules windows with a higher floor
 */
public record ModelSpec(
    String key,
    String budgetKey,
    long gpuMemoryPerReplicaBytes,
    int priority,
    int minReplicas,
    int maxReplicas,
    KeepAlivePolicy keepAlive,
    ScalingSpec scaling,
    List<Schedule> schedules) {

  public ModelSpec {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(budgetKey, "budgetKey");
    Objects.requireNonNull(keepAlive, "keepAlive");
    Objects.requireNonNull(scaling, "scaling");
    schedules = List.copyOf(Objects.requireNonNull(schedules, "schedules"));
    if (gpuMemoryPerReplicaBytes <= 0) {
      throw new IllegalArgumentException(
          "model "
              + key
              + ": gpuMemoryPerReplicaBytes = "
              + gpuMemoryPerReplicaBytes
              + ", must be > 0");
    }
    if (minReplicas < 0) {
      throw new IllegalArgumentException(
          "model " + key + ": minReplicas = " + minReplicas + ", must be >= 0");
    }
    if (maxReplicas < 1 || maxReplicas < minReplicas) {
      throw new IllegalArgumentException(
          "model " + key + ": maxReplicas = " + maxReplicas + ", must be >= max(1, minReplicas)");
    }
  }

  /** A model with a fixed keep-alive, default scaling and no schedules; for tests and examples. */
  public static ModelSpec of(
      String key,
      String budgetKey,
      long gpuMemoryPerReplicaBytes,
      int priority,
      int minReplicas,
      int maxReplicas,
      Duration idleTimeout) {
    return new ModelSpec(
        key,
        budgetKey,
        gpuMemoryPerReplicaBytes,
        priority,
        minReplicas,
        maxReplicas,
        new KeepAlivePolicy.Fixed(idleTimeout),
        ScalingSpec.defaults(),
        List.of());
  }

  public ModelSpec withKeepAlive(KeepAlivePolicy policy) {
    return new ModelSpec(
        key,
        budgetKey,
        gpuMemoryPerReplicaBytes,
        priority,
        minReplicas,
        maxReplicas,
        policy,
        scaling,
        schedules);
  }

  public ModelSpec withScaling(ScalingSpec newScaling) {
    return new ModelSpec(
        key,
        budgetKey,
        gpuMemoryPerReplicaBytes,
        priority,
        minReplicas,
        maxReplicas,
        keepAlive,
        newScaling,
        schedules);
  }

  public ModelSpec withSchedules(List<Schedule> newSchedules) {
    return new ModelSpec(
        key,
        budgetKey,
        gpuMemoryPerReplicaBytes,
        priority,
        minReplicas,
        maxReplicas,
        keepAlive,
        scaling,
        newSchedules);
  }
}
