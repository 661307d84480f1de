package dev.inferencebudget.controller.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Timestamp;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.ModelState;
import dev.inferencebudget.controller.api.v1alpha1.Preemption;
import dev.inferencebudget.controller.link.ActivationHandler;
import dev.inferencebudget.proto.v1.LoadReport;
import dev.inferencebudget.proto.v1.ModelLoad;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class BudgetControllerIT {

  /** The mock logs every request at INFO; keep a reference so the level set sticks. */
  private static final java.util.logging.Logger MOCK_SERVER_LOG =
      java.util.logging.Logger.getLogger(io.fabric8.mockwebserver.MockWebServer.class.getName());

  private static final String NS = "team-a";
  private static final Instant T0 = Instant.parse("2026-11-28T09:00:00Z");

  KubernetesMockServer server;
  KubernetesClient client;

  private final TestClock clock = new TestClock(T0);
  private final List<AutoCloseable> closing = new ArrayList<>();
  private FakeKubelet kubelet;

  @BeforeEach
  void cluster() {
    // The machine is shared by parallel builds; generous ceilings, the awaits return early.
    Awaitility.setDefaultTimeout(Duration.ofSeconds(40));
    MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
    MockCluster.registerCrds(client);
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  private void kubelet(Duration readyDelay) {
    kubelet = new FakeKubelet(client, readyDelay).start();
    closing.add(kubelet);
  }

  private BudgetController controller(
      String identity, boolean leaderElection, PrometheusRegistry registry) throws Exception {
    return controller(identity, leaderElection, registry, Duration.ZERO);
  }

  private BudgetController controller(
      String identity, boolean leaderElection, PrometheusRegistry registry, Duration grace)
      throws Exception {
    BudgetController c =
        new BudgetController(
            client,
            MockCluster.config(identity, leaderElection, grace),
            MockCluster.xdsConfig(),
            clock,
            registry);
    closing.add(c);
    return c.start();
  }

  private BudgetController controller() throws Exception {
    return controller("controller-0", false, new PrometheusRegistry());
  }

  private void create(Object... objects) {
    for (Object o : objects) {
      client.resource((io.fabric8.kubernetes.api.model.HasMetadata) o).create();
    }
  }

  private BudgetedModel model(String name) {
    return client.resources(BudgetedModel.class).inNamespace(NS).withName(name).get();
  }

  private int replicas(String deployment) {
    return client
        .apps()
        .deployments()
        .inNamespace(NS)
        .withName(deployment)
        .get()
        .getSpec()
        .getReplicas();
  }

  private Optional<Condition> condition(BudgetedModel m, String type) {
    if (m == null || m.getStatus() == null) {
      return Optional.empty();
    }
    return m.getStatus().conditions().stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  private List<Event> events(String involved, String reason) {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> involved.equals(e.getInvolvedObject().getName()))
        .filter(e -> reason.equals(e.getReason()))
        .toList();
  }

  private ModelState state(String name) {
    BudgetedModel m = model(name);
    return m == null || m.getStatus() == null ? null : m.getStatus().state();
  }

  @Test
  void anActivationScalesAModelFromZeroAndItBecomesReadyAndRoutable() throws Exception {
    kubelet(Duration.ofMillis(300));
    create(
        MockCluster.budget(NS, "gpu", "80Gi", Preemption.NEVER),
        MockCluster.deployment(NS, "llama", 0),
        MockCluster.model(NS, "llama", "llama-3-8b", "gpu", "24Gi", 100, "10m"));
    BudgetController c = controller();
    await().until(() -> state("llama") == ModelState.SCALED_TO_ZERO);

    ActivationHandler.Outcome outcome = c.reconciler().activate("team-a/llama", "ext-proc-0", T0);

    assertThat(outcome.result()).isEqualTo(ActivationHandler.Result.ACCEPTED);
    await().until(() -> replicas("llama") == 1);
    await().until(() -> state("llama") == ModelState.READY);
    assertThat(condition(model("llama"), Reconciler.READY).get().getStatus()).isEqualTo("True");
    assertThat(events("llama", "Activated")).hasSize(1);
    await().until(() -> c.xds().isRoutable("team-a/llama"));
    await()
        .until(
            () ->
                c.publisher().latest().getModelsList().stream()
                    .anyMatch(
                        s ->
                            s.getKey().equals("team-a/llama")
                                && s.getRoutable()
                                && s.getModelNamesList().contains("llama-3-8b")
                                && s.getEndpointsCount() == 1));
  }

  @Test
  void aModelWithNodeWarmthPrefersTheNodesItLastRanOnWhenItStartsFromZero() throws Exception {
    kubelet(Duration.ofMillis(100));
    BudgetedModel warm = MockCluster.model(NS, "llama", "llama-3-8b", "gpu", "24Gi", 100, "5m");
    var s = warm.getSpec();
    warm.setSpec(
        new dev.inferencebudget.controller.api.v1alpha1.BudgetedModelSpec(
            s.modelNames(),
            s.targetRef(),
            s.budgetRef(),
            s.gpuMemoryPerReplica(),
            s.priority(),
            s.replicas(),
            s.scaleToZero(),
            null,
            null,
            null,
            null,
            true,
            null));
    create(
        MockCluster.budget(NS, "gpu", "80Gi", Preemption.NEVER),
        MockCluster.deployment(NS, "llama", 0),
        warm);
    BudgetController c = controller();
    await().until(() -> state("llama") != null);
    c.reconciler().activate("team-a/llama", "ext-proc-0", T0);
    await().until(() -> state("llama") == ModelState.READY);
    await().until(() -> !model("llama").getStatus().lastNodes().isEmpty());
    List<String> ranOn = model("llama").getStatus().lastNodes();
    clock.advance(Duration.ofMinutes(6));
    c.requestCycle();
    await().until(() -> state("llama") == ModelState.SCALED_TO_ZERO);
    assertThat(model("llama").getStatus().lastNodes()).isEqualTo(ranOn);

    c.reconciler().activate("team-a/llama", "ext-proc-0", clock.instant());

    await().until(() -> replicas("llama") == 1);
    var deployment = client.apps().deployments().inNamespace(NS).withName("llama").get();
    var preferred =
        deployment
            .getSpec()
            .getTemplate()
            .getSpec()
            .getAffinity()
            .getNodeAffinity()
            .getPreferredDuringSchedulingIgnoredDuringExecution();
    assertThat(preferred).hasSize(1);
    assertThat(preferred.get(0).getPreference().getMatchExpressions().get(0).getValues())
        .isEqualTo(ranOn);
  }

  @Test
  void readinessAndAddressesComeFromEndpointSlicesBeforePods() throws Exception {
    create(
        MockCluster.budget(NS, "gpu", "80Gi", Preemption.NEVER),
        MockCluster.deployment(NS, "llama", 1),
        MockCluster.model(NS, "llama", "llama-3-8b", "gpu", "24Gi", 100, "10m"),
        new io.fabric8.kubernetes.api.model.PodBuilder()
            .withNewMetadata()
            .withNamespace(NS)
            .withName("llama-0")
            .withLabels(java.util.Map.of("app", "llama"))
            .endMetadata()
            .withNewStatus()
            .withPodIP("127.0.0.9")
            .addNewCondition()
            .withType("Ready")
            .withStatus("True")
            .endCondition()
            .endStatus()
            .build());
    BudgetController c = controller();
    // Without a slice, the pod's own readiness and IP.
    await().until(() -> published(c).map(s -> s.getEndpointsCount() == 1).orElse(false));
    assertThat(published(c).get().getEndpoints(0).getAddress()).isEqualTo("127.0.0.9:8000");

    // A Service's EndpointSlice says the pod is not ready (yet), at its own address and port.
    var slice =
        new io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder()
            .withNewMetadata()
            .withNamespace(NS)
            .withName("llama-abcde")
            .addToLabels("kubernetes.io/service-name", "llama")
            .endMetadata()
            .withAddressType("IPv4")
            .addNewPort()
            .withName("http")
            .withPort(8080)
            .endPort()
            .addNewEndpoint()
            .withAddresses("10.1.2.3")
            .withNewConditions()
            .withReady(false)
            .endConditions()
            .withNewTargetRef()
            .withKind("Pod")
            .withNamespace(NS)
            .withName("llama-0")
            .endTargetRef()
            .endEndpoint()
            .build();
    client.resource(slice).create();

    await()
        .until(
            () ->
                published(c)
                    .map(
                        s ->
                            s.getReadyReplicas() == 0
                                && s.getEndpoints(0).getAddress().equals("10.1.2.3:8080")
                                && !s.getEndpoints(0).getReady())
                    .orElse(false));
    slice.getEndpoints().get(0).getConditions().setReady(true);
    client.resource(slice).update();
    await()
        .until(
            () ->
                published(c).map(s -> s.getReadyReplicas() == 1 && s.getRoutable()).orElse(false));
  }

  private static Optional<dev.inferencebudget.proto.v1.ModelState> published(BudgetController c) {
    return c.publisher().latest().getModelsList().stream()
        .filter(s -> s.getKey().equals("team-a/llama"))
        .findFirst();
  }

  @Test
  void anIdleModelScalesToZeroAfterItsIdleTimeout() throws Exception {
    kubelet(Duration.ofMillis(100));
    create(
        MockCluster.budget(NS, "gpu", "80Gi", Preemption.NEVER),
        MockCluster.deployment(NS, "llama", 0),
        MockCluster.model(NS, "llama", "llama-3-8b", "gpu", "24Gi", 100, "5m"));
    BudgetController c = controller();
    await().until(() -> state("llama") != null);
    c.reconciler().activate("team-a/llama", "ext-proc-0", T0);
    await().until(() -> state("llama") == ModelState.READY);

    clock.advance(Duration.ofMinutes(4));
    c.requestCycle();
    await().during(Duration.ofMillis(500)).until(() -> replicas("llama") == 1);

    clock.advance(Duration.ofMinutes(1).plusSeconds(1));
    c.requestCycle();
    await().until(() -> replicas("llama") == 0);
    await().until(() -> state("llama") == ModelState.SCALED_TO_ZERO);
    assertThat(events("llama", "ScaledToZero")).hasSize(1);
  }

  @Test
  void aScaleUpOverTheBudgetIsRefusedWithAConditionAndAnEvent() throws Exception {
    kubelet(Duration.ofMillis(100));
    create(
        MockCluster.budget(NS, "gpu", "40Gi", Preemption.NEVER),
        MockCluster.deployment(NS, "llama", 0),
        MockCluster.deployment(NS, "qwen", 0),
        MockCluster.model(NS, "llama", "llama-3-8b", "gpu", "24Gi", 100, "10m"),
        MockCluster.model(NS, "qwen", "qwen3", "gpu", "24Gi", 100, "10m"));
    BudgetController c = controller();
    await().until(() -> state("qwen") != null);
    c.reconciler().activate("team-a/llama", "ext-proc-0", T0);
    await().until(() -> state("llama") == ModelState.READY);
    clock.advance(Duration.ofSeconds(1));

    c.reconciler().activate("team-a/qwen", "ext-proc-0", clock.instant());

    await().until(() -> state("qwen") == ModelState.BUDGET_BLOCKED);
    assertThat(replicas("qwen")).isZero();
    Condition exceeded = condition(model("qwen"), Reconciler.BUDGET_EXCEEDED).get();
    assertThat(exceeded.getStatus()).isEqualTo("True");
    assertThat(exceeded.getMessage()).contains("team-a/gpu");
    assertThat(events("qwen", "BudgetBlocked")).hasSize(1);
    assertThat(c.reconciler().activate("team-a/qwen", "ext-proc-0", clock.instant()).result())
        .isEqualTo(ActivationHandler.Result.REFUSED);
  }

  @Test
  void aColdStartOverTheBudgetPreemptsTheIdleLowerPriorityModel() throws Exception {
    kubelet(Duration.ofMillis(100));
    create(
        MockCluster.budget(NS, "gpu", "40Gi", Preemption.IDLE_LOWER_PRIORITY),
        MockCluster.deployment(NS, "llama", 0),
        MockCluster.deployment(NS, "qwen", 0),
        MockCluster.model(NS, "llama", "llama-3-8b", "gpu", "24Gi", 10, "10m"),
        MockCluster.model(NS, "qwen", "qwen3", "gpu", "24Gi", 500, "10m"));
    BudgetController c = controller();
    await().until(() -> state("qwen") != null);
    c.reconciler().activate("team-a/llama", "ext-proc-0", T0);
    await().until(() -> state("llama") == ModelState.READY);
    clock.advance(Duration.ofMinutes(2));

    c.reconciler().activate("team-a/qwen", "ext-proc-0", clock.instant());

    await().until(() -> replicas("llama") == 0);
    // The event is recorded after the scale; on a loaded machine the test can see the scale first.
    await().until(() -> events("llama", "Preempted").size() == 1);
    await().until(() -> replicas("qwen") == 1);
    await().until(() -> state("qwen") == ModelState.READY);
  }

  @Test
  void aControllerRestartedDuringAColdStartKeepsItAndDoesNotScaleToZero() throws Exception {
    kubelet(Duration.ofHours(1)); // pods never become ready during the test
    create(
        MockCluster.budget(NS, "gpu", "80Gi", Preemption.NEVER),
        MockCluster.deployment(NS, "llama", 0),
        MockCluster.model(NS, "llama", "llama-3-8b", "gpu", "24Gi", 100, "1m"));
    BudgetController first = controller();
    await().until(() -> state("llama") != null);
    first.reconciler().activate("team-a/llama", "ext-proc-0", T0);
    await().until(() -> state("llama") == ModelState.COLD_STARTING);
    Instant coldStart = model("llama").getStatus().coldStartTime();
    assertThat(coldStart).isEqualTo(T0);
    first.close();

    clock.advance(Duration.ofMinutes(5)); // longer than the idle timeout
    BudgetController second =
        controller("controller-1", false, new PrometheusRegistry(), Duration.ofSeconds(5));
    // Within the startup grace, ext-proc reconnects and reports the request it still holds.
    second
        .loads()
        .accept(
            LoadReport.newBuilder()
                .setReplica("ext-proc-0")
                .addModels(
                    ModelLoad.newBuilder()
                        .setKey("team-a/llama")
                        .setHeld(1)
                        .setLastRequest(Timestamp.newBuilder().setSeconds(T0.getEpochSecond())))
                .build(),
            "ext-proc-0 stream");
    clock.advance(Duration.ofSeconds(6)); // past the startup grace
    second.requestCycle();

    await()
        .during(Duration.ofMillis(800))
        .until(() -> replicas("llama") == 1 && state("llama") == ModelState.COLD_STARTING);
    assertThat(model("llama").getStatus().coldStartTime()).isEqualTo(coldStart);
  }

  @Test
  void onlyTheLeaderWritesAndTheStandbyTakesOverWhenItStops() throws Exception {
    kubelet(Duration.ofMillis(100));
    create(
        MockCluster.budget(NS, "gpu", "80Gi", Preemption.NEVER),
        MockCluster.deployment(NS, "llama", 0),
        MockCluster.model(NS, "llama", "llama-3-8b", "gpu", "24Gi", 100, "10m"));
    BudgetController a = controller("controller-a", true, new PrometheusRegistry());
    await().until(a::isLeader);
    BudgetController b = controller("controller-b", true, new PrometheusRegistry());
    await().until(() -> state("llama") == ModelState.SCALED_TO_ZERO);

    b.reconciler().activate("team-a/llama", "ext-proc-0", T0);
    await().during(Duration.ofMillis(600)).until(() -> replicas("llama") == 0);
    assertThat(b.isLeader()).isFalse();

    a.close();
    await().atMost(Duration.ofSeconds(15)).until(b::isLeader);
    b.reconciler().activate("team-a/llama", "ext-proc-0", clock.instant());
    await().until(() -> replicas("llama") == 1);
    await().until(() -> !events("llama", "Activated").isEmpty());
    assertThat(client.v1().events().inNamespace(NS).list().getItems())
        .allSatisfy(e -> assertThat(e.getReportingInstance()).isIn("controller-a", "controller-b"))
        .anySatisfy(e -> assertThat(e.getReportingInstance()).isEqualTo("controller-b"));
    assertThat(events("llama", "Activated"))
        .allSatisfy(e -> assertThat(e.getReportingInstance()).isEqualTo("controller-b"));
  }

  @Test
  void aStatusWriteThatConflictsRepeatedlyIsRetriedOnFreshState() throws Exception {
    create(
        MockCluster.budget(NS, "gpu", "80Gi", Preemption.NEVER),
        MockCluster.deployment(NS, "llama", 0),
        MockCluster.model(NS, "llama", "llama-3-8b", "gpu", "24Gi", 100, "10m"));
    server
        .expect()
        .put()
        .withPath(
            "/apis/inferencebudget.dev/v1alpha1/namespaces/team-a/budgetedmodels/llama/status")
        .andReturn(
            409,
            new StatusBuilder()
                .withCode(409)
                .withReason("Conflict")
                .withMessage("conflict")
                .build())
        .times(3);
    PrometheusRegistry registry = new PrometheusRegistry();
    controller("controller-0", false, registry);

    await().until(() -> state("llama") == ModelState.SCALED_TO_ZERO);
    assertThat(conflicts(registry)).isGreaterThanOrEqualTo(3);
  }

  @Test
  void aMissingTargetAMissingBudgetAndADuplicateModelNameEachGetAConditionAndAnEvent()
      throws Exception {
    create(
        MockCluster.budget(NS, "gpu", "80Gi", Preemption.NEVER),
        MockCluster.deployment(NS, "llama", 0),
        MockCluster.deployment(NS, "orphan", 0),
        MockCluster.model(NS, "llama", "llama-3-8b", "gpu", "24Gi", 100, "10m"),
        MockCluster.model(NS, "ghost", "ghost", "gpu", "24Gi", 100, "10m"),
        MockCluster.model(NS, "orphan", "orphan", "no-such-budget", "24Gi", 100, "10m"));
    BudgetController c = controller();
    await().until(() -> state("llama") != null && state("ghost") != null);
    client
        .resource(MockCluster.model(NS, "pirate", "llama-3-8b", "gpu", "24Gi", 100, "10m"))
        .create();

    await()
        .until(
            () ->
                condition(model("ghost"), Reconciler.TARGET_FOUND)
                    .map(x -> x.getStatus().equals("False"))
                    .orElse(false));
    assertThat(events("ghost", "DeploymentNotFound")).hasSize(1);
    c.reconciler().activate("team-a/orphan", "ext-proc-0", clock.instant());
    await()
        .until(
            () ->
                condition(model("orphan"), Reconciler.BUDGET_EXCEEDED)
                    .map(x -> x.getMessage().contains("does not exist"))
                    .orElse(false));
    await()
        .until(
            () ->
                condition(model("pirate"), Reconciler.MODEL_NAMES_UNIQUE)
                    .map(x -> x.getStatus().equals("False"))
                    .orElse(false));
    assertThat(events("pirate", "ModelNameConflict")).hasSize(1);
    assertThat(condition(model("llama"), Reconciler.MODEL_NAMES_UNIQUE).get().getStatus())
        .isEqualTo("True");
  }

  @Test
  void anHpaOnTheTargetIsReportedAndTheControllerDoesNotScaleIt() throws Exception {
    create(
        MockCluster.budget(NS, "gpu", "80Gi", Preemption.NEVER),
        MockCluster.deployment(NS, "llama", 0),
        MockCluster.model(NS, "llama", "llama-3-8b", "gpu", "24Gi", 100, "10m"),
        new io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBuilder()
            .withNewMetadata()
            .withNamespace(NS)
            .withName("llama-hpa")
            .endMetadata()
            .withNewSpec()
            .withMinReplicas(1)
            .withMaxReplicas(3)
            .withNewScaleTargetRef()
            .withApiVersion("apps/v1")
            .withKind("Deployment")
            .withName("llama")
            .endScaleTargetRef()
            .endSpec()
            .build());
    BudgetController c = controller();
    await()
        .until(
            () ->
                condition(model("llama"), Reconciler.SINGLE_WRITER)
                    .map(x -> x.getStatus().equals("False"))
                    .orElse(false));
    assertThat(condition(model("llama"), Reconciler.SINGLE_WRITER).get().getMessage())
        .contains("HorizontalPodAutoscaler team-a/llama-hpa");
    c.reconciler().activate("team-a/llama", "ext-proc-0", clock.instant());
    await().during(Duration.ofMillis(500)).until(() -> replicas("llama") == 0);
    assertThat(events("llama", "ExternalWriter")).hasSize(1);
  }

  private static double conflicts(PrometheusRegistry registry) {
    return registry.scrape().stream()
        .filter(s -> s.getMetadata().getName().equals("ibc_controller_conflicts"))
        .map(s -> ((CounterSnapshot) s).getDataPoints().get(0).getValue())
        .findFirst()
        .orElse(0.0);
  }
}
