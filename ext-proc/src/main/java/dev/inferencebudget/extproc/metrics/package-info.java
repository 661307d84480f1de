/**
 * What the server measures: Prometheus metrics (no tenant label anywhere) and the per-model load
 * the controller link reports.
 */
package dev.inferencebudget.extproc.metrics;
