package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** How full a budget is, as the controller last saw it. */
public enum BudgetState {
  /** Reserved memory is below the protection threshold: any model may grow. */
  @JsonProperty("Available")
  AVAILABLE,

  /** Reserved memory is above the protection threshold: only protected priorities may grow. */
  @JsonProperty("Protecting")
  PROTECTING,

  /** A scale-up was refused because it did not fit. */
  @JsonProperty("Exhausted")
  EXHAUSTED
}
