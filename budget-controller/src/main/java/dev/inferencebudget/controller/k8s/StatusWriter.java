package dev.inferencebudget.controller.k8s;

import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModelStatus;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudget;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudgetStatus;

/** Writes the status subresource of the custom resources; never their spec. */
public interface StatusWriter {

  /** Replaces the status of {@code current} (as last seen) with {@code status}. */
  void model(BudgetedModel current, BudgetedModelStatus status);

  /** Replaces the status of {@code current} (as last seen) with {@code status}. */
  void budget(InferenceBudget current, InferenceBudgetStatus status);
}
