package dev.inferencebudget.harness.replay;

import dev.inferencebudget.harness.sandbox.Sandbox;
import dev.inferencebudget.harness.sandbox.SandboxConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * An in-process sandbox started for the replay: free ports, no examples (the replay creates its own
 * fleet), no leader election and no startup grace (nothing to resume), and the simulated cluster's
 * termination delay scaled by the speed-up. The per-model timings (load time, keep-alive, hold
 * timeout, scaling windows, token rates) are scaled in the objects the replay creates, see {@link
 * ScenarioObjects}.
 */
public final class SandboxTarget implements ReplayTarget {
  private final Sandbox sandbox;

  private SandboxTarget(Sandbox sandbox) {
    this.sandbox = Objects.requireNonNull(sandbox, "sandbox");
  }

  /** Starts a sandbox for {@code scenario}, reporting its start-up steps to {@code progress}. */
  public static SandboxTarget start(ReplayScenario scenario, Consumer<String> progress) {
    Duration terminationDelay = scenario.wall(scenario.settings().terminationDelay());
    SandboxConfig config =
        SandboxConfig.defaults()
            .withPorts(0, 0, 0, 0)
            .withManifests(List.of())
            .withTerminationDelay(terminationDelay)
            .withStartupGrace(Duration.ZERO)
            .withLeaderElection(false);
    return new SandboxTarget(Sandbox.start(config, progress));
  }

  public Sandbox sandbox() {
    return sandbox;
  }

  @Override
  public URI openAiBaseUrl() {
    return URI.create(sandbox.baseUrl());
  }

  @Override
  public Optional<KubernetesClient> kubernetes() {
    return Optional.of(sandbox.client());
  }

  @Override
  public void close() {
    sandbox.close();
  }
}
