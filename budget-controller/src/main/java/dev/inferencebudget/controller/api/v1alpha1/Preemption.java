package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** What a budget may do to make room for a model that does not fit. */
public enum Preemption {
  /** Refuse the scale-up; the model is {@code BudgetBlocked} until memory frees up. */
  @JsonProperty("Never")
  NEVER,

  /**
   * Scale an idle model of lower priority to zero to make room (its memory stays reserved until its
   * pods are gone).
   */
  @JsonProperty("IdleLowerPriority")
  IDLE_LOWER_PRIORITY
}
