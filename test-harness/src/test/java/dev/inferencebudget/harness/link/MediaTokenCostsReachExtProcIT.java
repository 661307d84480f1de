package dev.inferencebudget.harness.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudget;
import dev.inferencebudget.controller.config.ControllerConfig;
import dev.inferencebudget.controller.k8s.BudgetController;
import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.link.GrpcControllerLink;
import dev.inferencebudget.harness.cluster.Crds;
import dev.inferencebudget.harness.cluster.EmbeddedApiServer;
import dev.inferencebudget.xds.api.XdsConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A BudgetedModel's {@code spec.admission.imageTokens}/{@code audioTokens} reach ext-proc's
 * admission policy: the controller (on the mock API server) publishes them on the link, and
 * ext-proc's own link client converts them; an absent one is ext-proc's default, and an edit
 * arrives without a restart.
 */
class MediaTokenCostsReachExtProcIT {

  private static final String KEY = "team-a/llava";

  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  @Test
  void aModelsImageTokensReachExtProcAndAnAbsentAudioCostIsExtProcsDefault() throws Exception {
    EmbeddedApiServer api = EmbeddedApiServer.start();
    closing.add(api);
    KubernetesClient client = api.client();
    Crds.register(client, Duration.ofSeconds(30));
    var serialization = client.getKubernetesSerialization();
    client
        .resource(
            serialization.unmarshal(
                """
                apiVersion: inferencebudget.dev/v1alpha1
                kind: InferenceBudget
                metadata: {name: gpu, namespace: team-a}
                spec: {gpuMemory: 80Gi}
                """,
                InferenceBudget.class))
        .create();
    client
        .resource(
            serialization.unmarshal(
                """
                apiVersion: inferencebudget.dev/v1alpha1
                kind: BudgetedModel
                metadata: {name: llava, namespace: team-a}
                spec:
                  modelNames: [llava-1.5-7b]
                  targetRef: {name: llava}
                  budgetRef: {name: gpu}
                  gpuMemoryPerReplica: 24Gi
                  admission: {imageTokens: 576}
                """,
                BudgetedModel.class))
        .create();
    ControllerConfig d = ControllerConfig.defaults();
    BudgetController controller =
        new BudgetController(
                client,
                d.withPorts("127.0.0.1", 0, 0, 0)
                    .withLeaderElection(d.leaderElection().withEnabled(false))
                    .withStartupGrace(Duration.ZERO),
                XdsConfig.defaults().withListenAddress("127.0.0.1", 0),
                Clock.systemUTC(),
                new PrometheusRegistry())
            .start();
    closing.add(controller);
    GrpcControllerLink link = extProcLink(controller.linkApiPort());

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> admission(link).map(a -> a.imageTokens() == 576).orElse(false));
    assertThat(admission(link).orElseThrow().audioTokens())
        .isEqualTo(ModelState.AdmissionPolicy.DEFAULT_AUDIO_TOKENS);

    client
        .resources(BudgetedModel.class)
        .inNamespace("team-a")
        .withName("llava")
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"spec\":{\"admission\":{\"imageTokens\":1200,\"audioTokens\":300}}}");

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> admission(link).map(a -> a.audioTokens() == 300).orElse(false));
    assertThat(admission(link).orElseThrow().imageTokens()).isEqualTo(1200);
  }

  private static Optional<ModelState.AdmissionPolicy> admission(GrpcControllerLink link) {
    return link.current().byKey(KEY).map(ModelState::admission);
  }

  /** ext-proc's client of the controller's link API, as its Main wires it (plaintext). */
  private GrpcControllerLink extProcLink(int port) {
    // closed in reverse: the link, then the channel (its last callback runs on the executor), then
    // the executor
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    closing.add(
        () -> {
          executor.shutdown();
          executor.awaitTermination(5, TimeUnit.SECONDS);
        });
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    closing.add(
        () -> {
          channel.shutdownNow();
          channel.awaitTermination(5, TimeUnit.SECONDS);
        });
    GrpcControllerLink link =
        new GrpcControllerLink(
            channel,
            List::of,
            GrpcControllerLink.Settings.defaults("ext-proc-0")
                .withBackoff(Duration.ofMillis(50), Duration.ofMillis(500)),
            executor,
            Clock.systemUTC());
    closing.add(link);
    link.start();
    return link;
  }
}
