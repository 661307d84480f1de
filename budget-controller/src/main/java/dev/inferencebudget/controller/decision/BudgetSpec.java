package dev.inferencebudget.controller.decision;

import java.util.Objects;

/**
 * One tenant's GPU-memory budget, as the decision core needs it (converted from an {@code
 * InferenceBudget} at the shell's edge).
 *
 * @param key namespace/name of the budget
 * @param gpuMemoryBytes the most GPU memory its models may reserve together, at any instant
 * @param protectionThresholdPercent above this share of {@code gpuMemoryBytes} only models at or
 *     above {@code protectedPriority} may grow
 * @param protectedPriority the lowest priority that may grow above the threshold
 * @param preemption whether an idle lower-priority model is scaled down to make room
 */
public record BudgetSpec(
    String key,
    long gpuMemoryBytes,
    int protectionThresholdPercent,
    int protectedPriority,
    Preemption preemption) {

  /** What the budget layer may do to make room for a refused scale-up. */
  public enum Preemption {
    /** Never touch another model; the refused model is {@code BudgetBlocked}. */
    NEVER,
    /** Scale an idle model of lower priority down to its floor so that the refused one fits. */
    IDLE_LOWER_PRIORITY
  }

  public BudgetSpec {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(preemption, "preemption");
    if (gpuMemoryBytes < 0) {
      throw new IllegalArgumentException(
          "budget " + key + ": gpuMemoryBytes = " + gpuMemoryBytes + ", must be >= 0");
    }
    if (protectionThresholdPercent < 0 || protectionThresholdPercent > 100) {
      throw new IllegalArgumentException(
          "budget "
              + key
              + ": protectionThresholdPercent = "
              + protectionThresholdPercent
              + ", must be in [0, 100]");
    }
  }

  /** A budget without protection (threshold 100%) and without preemption. */
  public static BudgetSpec of(String key, long gpuMemoryBytes) {
    return new BudgetSpec(key, gpuMemoryBytes, 100, 0, Preemption.NEVER);
  }

  /** The reservation above which only protected priorities may grow. */
  public long thresholdBytes() {
    // Exact for any budget below 92 PB: gpuMemoryBytes * 100 fits in a long.
    return gpuMemoryBytes / 100 * protectionThresholdPercent
        + gpuMemoryBytes % 100 * protectionThresholdPercent / 100;
  }

  /** Whether a model of this priority may grow above the protection threshold. */
  public boolean isProtected(int priority) {
    return priority >= protectedPriority;
  }
}
