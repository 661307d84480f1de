/**
 * End-to-end scenarios (issue #5): the whole system on loopback (API server with a simulated
 * kubelet, the real controller with xDS, the real ext-proc, the Envoy stand-in fed over ADS),
 * driven by the official OpenAI Java SDK through the data plane. Each scenario asserts what a
 * client sees; {@code *ContainersIT} run the same against a real Envoy image and K3s where Docker
 * exists and are skipped without it.
 */
package dev.inferencebudget.harness.e2e;
