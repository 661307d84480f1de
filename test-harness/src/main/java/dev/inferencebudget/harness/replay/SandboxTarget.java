package dev.inferencebudget.harness.replay;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.util.Optional;

/** An in-process sandbox started for the replay, with its timings scaled by the speed-up. */
final class SandboxTarget implements ReplayTarget {
  private SandboxTarget() {}

  static SandboxTarget start(ReplayScenario scenario) {
    // TODO(#5): start dev.inferencebudget.harness.sandbox.Sandbox once it has landed on main
    throw new UnsupportedOperationException(
        "the in-process sandbox is not available yet: pass --base-url (and --kube-url)");
  }

  @Override
  public URI openAiBaseUrl() {
    throw new UnsupportedOperationException();
  }

  @Override
  public Optional<KubernetesClient> kubernetes() {
    return Optional.empty();
  }

  @Override
  public void close() {}
}
