/**
 * The one-command sandbox: the whole system on one machine. {@link
 * dev.inferencebudget.harness.sandbox.Sandbox} starts the embedded API server with the CRDs, the
 * simulated cluster, the real controller (xDS and link API), the real ext-proc server linked to it
 * over gRPC, and the data plane (the Envoy stand-in fed over ADS, or a real {@code envoy} binary),
 * then applies the examples. Tests (end-to-end scenarios, workload replay) use it programmatically;
 * {@link dev.inferencebudget.harness.sandbox.SandboxCommand} is the command ({@code
 * scripts/sandbox}). See {@code docs/sandbox.md}.
 */
package dev.inferencebudget.harness.sandbox;
