package dev.inferencebudget.controller.decision;

/** The state of a budget after a decision. */
public enum BudgetState {
  /** Reserved memory is at or below the protection threshold. */
  AVAILABLE("Available"),
  /** Above the protection threshold: only protected priorities may grow. */
  ABOVE_THRESHOLD("AboveThreshold"),
  /** Not even the smallest replica of the budget's models fits in the free memory. */
  FULL("Full");

  private final String statusName;

  BudgetState(String statusName) {
    this.statusName = statusName;
  }

  public String statusName() {
    return statusName;
  }
}
