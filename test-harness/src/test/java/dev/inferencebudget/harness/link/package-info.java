/**
 * The controller's model states as ext-proc reads them: a BudgetedModel's spec through the
 * controller, the {@code ibc.v1} link and ext-proc's conversion into its admission policy.
 */
package dev.inferencebudget.harness.link;
