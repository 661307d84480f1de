package dev.inferencebudget.harness.cluster;

import dev.inferencebudget.harness.vllm.VllmSimulatorConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Configuration of the simulated kubelet. {@link #defaults()} lists every default; {@link
 * #validate()} names the offending key. Per-Deployment settings come from annotations ({@link
 * DeploymentSimulation}); these are their defaults.
 *
 * @param deploymentSelector labels a Deployment must carry to be simulated; empty means all
 * @param nodeNames the simulated node pool; each pod goes to the node with the fewest pods
 * @param terminationDelay how long a pod stays terminating after a scale-down
 * @param simulatorDefaults the vLLM simulator settings a Deployment does not override (its host
 *     must be loopback and its port 0: every replica gets a port of its own)
 */
public record SimulatedKubeletConfig(
    Map<String, String> deploymentSelector,
    List<String> nodeNames,
    Duration terminationDelay,
    VllmSimulatorConfig simulatorDefaults) {

  public SimulatedKubeletConfig {
    deploymentSelector =
        Map.copyOf(Objects.requireNonNull(deploymentSelector, "deploymentSelector"));
    nodeNames = List.copyOf(Objects.requireNonNull(nodeNames, "nodeNames"));
    Objects.requireNonNull(terminationDelay, "terminationDelay");
    Objects.requireNonNull(simulatorDefaults, "simulatorDefaults");
  }

  /**
   * Every Deployment, three nodes ({@code sim-node-a}, {@code -b}, {@code -c}), 2 s termination
   * delay, and the simulator's defaults with a 5 s load time.
   */
  public static SimulatedKubeletConfig defaults() {
    return new SimulatedKubeletConfig(
        Map.of(),
        List.of("sim-node-a", "sim-node-b", "sim-node-c"),
        Duration.ofSeconds(2),
        VllmSimulatorConfig.defaults().withLoadTime(Duration.ofSeconds(5)));
  }

  /**
   * Checks every setting and names the key of each violation.
   *
   * @return this, for chaining
   * @throws IllegalArgumentException listing all violations
   */
  public SimulatedKubeletConfig validate() {
    List<String> errors = new ArrayList<>();
    if (nodeNames.isEmpty()) {
      errors.add("nodeNames must name at least one node");
    }
    if (terminationDelay.isNegative()) {
      errors.add("terminationDelay = " + terminationDelay + ", must be >= 0");
    }
    if (simulatorDefaults.port() != 0) {
      errors.add(
          "simulatorDefaults.port = " + simulatorDefaults.port() + ", must be 0 (one port each)");
    }
    try {
      simulatorDefaults.validate();
    } catch (IllegalArgumentException e) {
      errors.add("simulatorDefaults: " + e.getMessage());
    }
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException("invalid simulated kubelet config: " + errors);
    }
    return this;
  }

  public SimulatedKubeletConfig withDeploymentSelector(Map<String, String> v) {
    return new SimulatedKubeletConfig(v, nodeNames, terminationDelay, simulatorDefaults);
  }

  public SimulatedKubeletConfig withTerminationDelay(Duration v) {
    return new SimulatedKubeletConfig(deploymentSelector, nodeNames, v, simulatorDefaults);
  }

  public SimulatedKubeletConfig withSimulatorDefaults(VllmSimulatorConfig v) {
    return new SimulatedKubeletConfig(deploymentSelector, nodeNames, terminationDelay, v);
  }
}
