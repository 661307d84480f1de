/** Simulators, the sandbox, end-to-end scenarios, workload replay and benchmarks. */
package dev.inferencebudget.harness;
