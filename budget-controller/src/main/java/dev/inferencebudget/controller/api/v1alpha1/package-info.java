/**
 * The {@code inferencebudget.dev/v1alpha1} custom resources: {@link
 * dev.inferencebudget.controller.api.v1alpha1.InferenceBudget} (a namespace's GPU-memory budget)
 * and {@link dev.inferencebudget.controller.api.v1alpha1.BudgetedModel} (a vLLM Deployment scaled
 * under it).
 *
 * <p>The CRD YAML is generated from these classes at build time by fabric8's crd-generator
 * (validation from the {@code io.fabric8.generator.annotation} annotations, CEL rules as {@code
 * x-kubernetes-validations}) and kept in {@code charts/inference-budget-controller/crds/}. Spec
 * records fill every documented default from {@link Defaults} when a field is absent, so the
 * controller sees the same values whether or not an API server applied the schema defaults (the
 * fabric8 mock server does not). The classes hold no logic beyond conversions to exact units.
 */
package dev.inferencebudget.controller.api.v1alpha1;
