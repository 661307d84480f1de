package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Where a model stands; the controller's summary of its replicas and the budget's answer. */
public enum ModelState {
  /** No replicas; the GPU memory is released. A request activates the model. */
  @JsonProperty("ScaledToZero")
  SCALED_TO_ZERO,

  /** Scaling from zero: replicas are starting and requests are held until one is routable. */
  @JsonProperty("ColdStarting")
  COLD_STARTING,

  /** Ready replicas serve requests and the replica count is where the controller wants it. */
  @JsonProperty("Ready")
  READY,

  /** Replicas are being added or removed. */
  @JsonProperty("Scaling")
  SCALING,

  /**
   * A wanted scale-up does not fit in the budget; the condition says which budget and by how much.
   */
  @JsonProperty("BudgetBlocked")
  BUDGET_BLOCKED
}
