package dev.inferencebudget.controller.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.inferencebudget.controller.api.v1alpha1.Preemption;
import dev.inferencebudget.controller.link.ActivationHandler;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * An activation that arrives during the startup grace is applied when the grace ends, not at the
 * next tick (found by the sandbox: a request sent right after start waited up to a whole tick).
 */
@EnableKubernetesMockClient(crud = true)
class StartupGraceIT {
  private static final String NS = "team-a";
  private static final Instant T0 = Instant.parse("2026-11-28T09:00:00Z");

  KubernetesClient client;

  @Test
  void anActivationDuringTheStartupGraceScalesTheModelWhenTheGraceEndsNotAtTheNextTick()
      throws Exception {
    MockCluster.registerCrds(client);
    for (var object :
        new io.fabric8.kubernetes.api.model.HasMetadata[] {
          MockCluster.budget(NS, "gpu", "80Gi", Preemption.NEVER),
          MockCluster.deployment(NS, "llama", 0),
          MockCluster.model(NS, "llama", "llama-3-8b", "gpu", "24Gi", 100, "10m")
        }) {
      client.resource(object).create();
    }
    TestClock clock = new TestClock(T0);
    Duration grace = Duration.ofSeconds(1);
    // A tick far longer than the test: only the end of the grace can trigger the write.
    var config =
        MockCluster.config("controller-0", false, grace)
            .withTiming(Duration.ofMillis(20), Duration.ofMinutes(5));
    try (BudgetController controller =
        new BudgetController(
                client, config, MockCluster.xdsConfig(), clock, new PrometheusRegistry())
            .start()) {
      controller.reconciler().cycleAndWait(); // the model is known before it is activated
      ActivationHandler.Outcome outcome =
          controller.reconciler().activate("team-a/llama", "ext-proc-0", T0);
      assertThat(outcome.result()).isEqualTo(ActivationHandler.Result.ACCEPTED);
      controller.reconciler().cycleAndWait();
      assertThat(replicas()).as("no write during the grace").isZero();

      clock.advance(grace.plusMillis(1));

      await().atMost(Duration.ofSeconds(20)).until(() -> replicas() == 1);
    }
  }

  private int replicas() {
    return client
        .apps()
        .deployments()
        .inNamespace(NS)
        .withName("llama")
        .get()
        .getSpec()
        .getReplicas();
  }
}
