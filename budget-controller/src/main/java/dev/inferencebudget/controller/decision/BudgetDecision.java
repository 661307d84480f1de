package dev.inferencebudget.controller.decision;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The outcome for one budget.
 *
 * @param budgetKey the budget
 * @param gpuMemoryBytes its size
 * @param reservedBytes the sum of its models' reservations after this decision; never above {@code
 *     gpuMemoryBytes} unless the specs alone already exceed it (a shrunk budget)
 * @param heldBytes memory held by pods that exist now (starting, ready or terminating)
 * @param thresholdBytes the protection threshold in bytes
 * @param state for status
 * @param crossing whether this decision crossed the protection threshold
 * @param reservedBytesByModel each model's reservation, by model key
 * @param reasons threshold crossings and over-commitment
 */
public record BudgetDecision(
    String budgetKey,
    long gpuMemoryBytes,
    long reservedBytes,
    long heldBytes,
    long thresholdBytes,
    BudgetState state,
    ThresholdCrossing crossing,
    Map<String, Long> reservedBytesByModel,
    List<Reason> reasons) {

  public BudgetDecision {
    Objects.requireNonNull(budgetKey, "budgetKey");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(crossing, "crossing");
    reservedBytesByModel =
        java.util.Collections.unmodifiableMap(
            new java.util.TreeMap<>(
                Objects.requireNonNull(reservedBytesByModel, "reservedBytesByModel")));
    reasons = List.copyOf(Objects.requireNonNull(reasons, "reasons"));
  }

  public long freeBytes() {
    return Math.max(0, gpuMemoryBytes - reservedBytes);
  }
}
