package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The kinds of workload a BudgetedModel can scale. */
public enum TargetKind {
  /** An {@code apps/v1} Deployment, scaled through its scale subresource. */
  @JsonProperty("Deployment")
  DEPLOYMENT
}
