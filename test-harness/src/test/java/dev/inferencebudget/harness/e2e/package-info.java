/**
 * End-to-end scenarios (issue #5): the whole system on loopback as the sandbox wires it ({@code
 * harness.sandbox.Sandbox}: API server with a simulated kubelet, the real controller with xDS, the
 * real ext-proc, the Envoy stand-in fed over ADS), driven by the official OpenAI Java SDK through
 * the data plane. Each scenario asserts what a client sees; {@code *ContainersIT} run the same on
 * the sandbox with K3s as its API server and a real Envoy image as its data plane where Docker
 * exists, and are skipped without it.
 */
package dev.inferencebudget.harness.e2e;
