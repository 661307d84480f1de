package dev.inferencebudget.controller.decision;

/** The state of a model as shown in its status and sent to the proxies. */
public enum ModelState {
  /** No replica desired and none left. */
  SCALED_TO_ZERO("ScaledToZero"),
  /** Replicas desired, none ready yet. */
  COLD_STARTING("ColdStarting"),
  /** Ready replicas equal the desired count. */
  READY("Ready"),
  /** Replicas are being added or removed while some are ready (or the last ones are leaving). */
  SCALING("Scaling"),
  /**
   * The budget refused every replica the model wants: nothing is desired and a request cannot be
   * served. A model that serves with fewer replicas than it wants keeps {@link #READY} or {@link
   * #SCALING} and carries the refusal in {@link ModelDecision#refusal()}.
   */
  BUDGET_BLOCKED("BudgetBlocked");

  private final String statusName;

  ModelState(String statusName) {
    this.statusName = statusName;
  }

  /** The name used in the custom resource's status ({@code ScaledToZero}, ...). */
  public String statusName() {
    return statusName;
  }
}
