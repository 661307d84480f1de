package dev.inferencebudget.controller.decision;

import java.util.Objects;

/**
 * A scale-up the budget refused: which budget, how much more memory the model wanted, and how much
 * was free for it (below the protection threshold when that was the limit). Maps one to one onto
 * the proto's {@code BudgetRefusal} and a {@code BudgetBlocked} status condition.
 */
public record BudgetRefusal(String budgetKey, long neededBytes, long freeBytes, String message) {
  public BudgetRefusal {
    Objects.requireNonNull(budgetKey, "budgetKey");
    Objects.requireNonNull(message, "message");
    if (neededBytes < 0 || freeBytes < 0) {
      throw new IllegalArgumentException("neededBytes and freeBytes must be >= 0");
    }
  }
}
