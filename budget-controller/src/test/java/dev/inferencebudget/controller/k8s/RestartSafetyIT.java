package dev.inferencebudget.controller.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Timestamp;
import dev.inferencebudget.controller.api.v1alpha1.AdaptiveKeepAlive;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModelSpec;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModelStatus;
import dev.inferencebudget.controller.api.v1alpha1.IdleGapHistogram;
import dev.inferencebudget.controller.api.v1alpha1.KeepAlivePolicy;
import dev.inferencebudget.controller.api.v1alpha1.ModelState;
import dev.inferencebudget.controller.api.v1alpha1.Preemption;
import dev.inferencebudget.controller.api.v1alpha1.ScaleToZero;
import dev.inferencebudget.proto.v1.LoadReport;
import dev.inferencebudget.proto.v1.ModelLoad;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the idle layer needs across a controller restart lives in status and is read back. */
class RestartSafetyIT {

  private static final String NS = "team-a";
  private static final String KEY = "team-a/llama";
  private static final Instant T0 = Instant.parse("2026-11-28T09:00:00Z");

  private MockCluster.OwnServer cluster;
  private KubernetesClient client;

  private final TestClock clock = new TestClock(T0);

  @BeforeEach
  void cluster() {
    cluster = new MockCluster.OwnServer();
    client = cluster.client;
    FakeKubelet kubelet = new FakeKubelet(client, Duration.ofMillis(100)).start();
    cluster.closeLater(kubelet);
  }

  @AfterEach
  void stop() throws Exception {
    cluster.close();
  }

  private BudgetController controller(String identity) throws Exception {
    BudgetController c =
        new BudgetController(
            client,
            MockCluster.config(identity, false),
            MockCluster.xdsConfig(),
            clock,
            new PrometheusRegistry());
    cluster.closeLater(c);
    return c.start();
  }

  private BudgetedModelStatus status() {
    BudgetedModel m = client.resources(BudgetedModel.class).inNamespace(NS).withName("llama").get();
    return m == null ? null : m.getStatus();
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

  private static LoadReport load(int inFlight, Instant lastRequest) {
    return LoadReport.newBuilder()
        .setReplica("ext-proc-0")
        .addModels(
            ModelLoad.newBuilder()
                .setKey(KEY)
                .setInFlight(inFlight)
                .setLastRequest(Timestamp.newBuilder().setSeconds(lastRequest.getEpochSecond())))
        .build();
  }

  @Test
  void aRestartInTheMiddleOfAnIdlePeriodKeepsTheIdleTimer() throws Exception {
    MockCluster.createLlama(client, NS, 0, "5m");
    BudgetController first = controller("controller-0");
    await().until(() -> status() != null);
    first.reconciler().activate(KEY, "ext-proc-0", T0);
    await().until(() -> status().state() == ModelState.READY);
    // A long generation keeps the model busy until T0+3m, well after its last request (T0).
    clock.advance(Duration.ofMinutes(3));
    first.loads().accept(load(1, T0), "stream");
    first.reconciler().cycleAndWait();
    first.loads().accept(load(0, T0), "stream");
    clock.advance(Duration.ofSeconds(1));
    first.reconciler().cycleAndWait();
    await().until(() -> T0.plus(Duration.ofMinutes(3)).equals(status().idleSince()));
    assertThat(status().scaleToZeroTime()).isEqualTo(T0.plus(Duration.ofMinutes(8)));
    first.close();

    // Restarted 6 minutes after the last request but 3 after the model went idle.
    clock.advance(Duration.ofMinutes(3));
    BudgetController second = controller("controller-1");
    second.requestCycle();

    await().during(Duration.ofMillis(800)).until(() -> replicas() == 1);
    assertThat(status().scaleToZeroTime()).isEqualTo(T0.plus(Duration.ofMinutes(8)));
    clock.advance(Duration.ofMinutes(2).plusSeconds(1)); // past T0+8m
    second.requestCycle();
    await().until(() -> replicas() == 0);
  }

  @Test
  void theLearnedKeepAliveSurvivesARestartAndLearnsOn() throws Exception {
    // What an earlier controller learned and wrote: 12 idle gaps of 2-3 minutes.
    IdleGapHistogram learned = new IdleGapHistogram(60L, 240, Map.of("2", 12L), 0L);
    readyModelWithLearnedGaps(new ScaleToZero("30m", KeepAlivePolicy.ADAPTIVE), learned);
    clock.advance(Duration.ofMinutes(1));

    controller("controller-0");

    // The learned keep-alive: the 99th percentile's bucket (2-3 min), upper edge + 10% = 198 s;
    // the fixed fallback would keep it for 30 minutes.
    await().until(() -> T0.plusSeconds(198).equals(status().scaleToZeroTime()));
    assertThat(status().idleGaps()).isEqualTo(learned);
  }

  @Test
  void aHistogramLearnedWithOtherBucketsIsDiscardedNotReadAtTheNewWidth() throws Exception {
    IdleGapHistogram learned = new IdleGapHistogram(60L, 240, Map.of("2", 12L), 0L);
    // The operator halved the bucket width since the histogram was learned.
    readyModelWithLearnedGaps(
        new ScaleToZero("30m", KeepAlivePolicy.ADAPTIVE, new AdaptiveKeepAlive("30s", "4h")),
        learned);
    clock.advance(Duration.ofMinutes(1));

    controller("controller-0");

    // Read at 30 s, bucket 2 would give (2 + 1) * 30 s + 10% = 99 s; discarded, the fallback holds.
    await().until(() -> T0.plus(Duration.ofMinutes(30)).equals(status().scaleToZeroTime()));
    assertThat(status().idleGaps()).isEqualTo(new IdleGapHistogram(30L, 480, Map.of(), 0L));
  }

  @Test
  void aNewIdleGapIsWrittenToStatus() throws Exception {
    client.resource(MockCluster.budget(NS, "gpu", "80Gi", Preemption.NEVER)).create();
    client.resource(MockCluster.deployment(NS, "llama", 0)).create();
    BudgetedModel model = MockCluster.model(NS, "llama", "llama-3-8b", "gpu", "24Gi", 100, "30m");
    BudgetedModelSpec s = model.getSpec();
    model.setSpec(
        new BudgetedModelSpec(
            s.modelNames(),
            s.targetRef(),
            s.budgetRef(),
            s.gpuMemoryPerReplica(),
            s.priority(),
            s.replicas(),
            new ScaleToZero("30m", KeepAlivePolicy.ADAPTIVE),
            null,
            null,
            null,
            null,
            false,
            null));
    client.resource(model).create();
    BudgetController c = controller("controller-0");
    await().until(() -> status() != null);
    c.reconciler().activate(KEY, "ext-proc-0", T0);
    await().until(() -> status().state() == ModelState.READY);
    assertThat(status().idleGaps().counts()).isEmpty();

    clock.advance(Duration.ofMinutes(5));
    c.loads().accept(load(0, clock.instant()), "stream");
    c.requestCycle();

    await().until(() -> status().idleGaps().counts().equals(Map.of("5", 1L)));
  }

  /**
   * A budget, a one-replica Deployment and a Ready model whose status carries what an earlier
   * controller learned ({@code learned}), last busy at T0.
   */
  private void readyModelWithLearnedGaps(ScaleToZero scaleToZero, IdleGapHistogram learned) {
    client.resource(MockCluster.budget(NS, "gpu", "80Gi", Preemption.NEVER)).create();
    client.resource(MockCluster.deployment(NS, "llama", 1)).create();
    BudgetedModel model = MockCluster.model(NS, "llama", "llama-3-8b", "gpu", "24Gi", 100, "30m");
    BudgetedModelSpec s = model.getSpec();
    model.setSpec(
        new BudgetedModelSpec(
            s.modelNames(),
            s.targetRef(),
            s.budgetRef(),
            s.gpuMemoryPerReplica(),
            s.priority(),
            s.replicas(),
            scaleToZero,
            null,
            null,
            null,
            null,
            false,
            null));
    BudgetedModel created = client.resource(model).create();
    created.setStatus(
        new BudgetedModelStatus(
            created.getMetadata().getGeneration(),
            ModelState.READY,
            1,
            1,
            1,
            null,
            null,
            T0,
            null,
            T0,
            null,
            learned,
            null,
            List.of(),
            List.of()));
    client.resource(created).updateStatus();
  }
}
