/**
 * A simulated Kubernetes cluster for tests and the sandbox: fabric8's mock API server in CRUD mode
 * ({@link dev.inferencebudget.harness.cluster.EmbeddedApiServer}) and a {@link
 * dev.inferencebudget.harness.cluster.SimulatedKubelet} that does what the Deployment controller,
 * the scheduler, the kubelet and the EndpointSlice controller would: for each desired replica of a
 * watched Deployment it starts a vLLM simulator on a loopback port and creates its Pod and
 * EndpointSlice, ready once the simulated model has loaded, and on scale-down marks pods
 * terminating, then removes them after a termination delay.
 *
 * <p>{@link dev.inferencebudget.harness.cluster.SimulatedObjects} builds the objects as values (no
 * I/O); the kubelet only applies them. Entry point for most uses: {@link
 * dev.inferencebudget.harness.cluster.SimulatedCluster#start}. See {@code docs/vllm-simulator.md}.
 */
package dev.inferencebudget.harness.cluster;
