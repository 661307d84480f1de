/**
 * Tests of the Helm chart in {@code charts/inference-budget-controller}: lint, rendering of every
 * documented values variant into fabric8 model objects, the wiring between rendered objects (Envoy
 * to Services, ext-proc to the controller, probes to container ports), least-privilege RBAC, the
 * values schema, and values that mirror Java configuration defaults.
 */
package dev.inferencebudget.harness.chart;
