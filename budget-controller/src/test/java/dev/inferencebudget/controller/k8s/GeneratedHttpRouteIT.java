package dev.inferencebudget.controller.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.inferencebudget.controller.api.v1alpha1.BackendRef;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModelSpec;
import dev.inferencebudget.controller.api.v1alpha1.ParentRef;
import dev.inferencebudget.controller.api.v1alpha1.Preemption;
import dev.inferencebudget.controller.api.v1alpha1.Route;
import dev.inferencebudget.controller.k8s.route.DesiredRoutes;
import dev.inferencebudget.controller.k8s.route.RouteAcceptance;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReferenceBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The controller's generated HTTPRoutes on fabric8's CRUD mock API server. */
@EnableKubernetesMockClient(crud = true)
class GeneratedHttpRouteIT {

  private static final java.util.logging.Logger MOCK_SERVER_LOG =
      java.util.logging.Logger.getLogger(io.fabric8.mockwebserver.MockWebServer.class.getName());

  private static final String NS = "team-a";
  private static final Instant T0 = Instant.parse("2026-11-28T09:00:00Z");
  private static final ParentRef GATEWAY =
      new ParentRef(null, null, "gateway-system", "inference-gateway", "http", null);

  KubernetesMockServer server;
  KubernetesClient client;

  private final TestClock clock = new TestClock(T0);
  private final List<AutoCloseable> closing = new ArrayList<>();

  @BeforeEach
  void cluster() {
    Awaitility.setDefaultTimeout(Duration.ofSeconds(40));
    MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
    MockCluster.registerCrds(client);
    client.resource(MockCluster.budget(NS, "gpu", "80Gi", Preemption.NEVER)).create();
    client.resource(MockCluster.deployment(NS, "llama", 0)).create();
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  private BudgetController controller(PrometheusRegistry registry) throws Exception {
    BudgetController c =
        new BudgetController(
            client,
            MockCluster.config("controller-0", false),
            MockCluster.xdsConfig(),
            clock,
            registry);
    closing.add(c);
    return c.start();
  }

  private static BudgetedModel routedModel(Route route) {
    BudgetedModel m = MockCluster.model(NS, "llama", "llama-3-8b", "gpu", "24Gi", 100, "10m");
    m.setSpec(withRoute(m.getSpec(), route));
    return m;
  }

  private static BudgetedModelSpec withRoute(BudgetedModelSpec s, Route route) {
    return new BudgetedModelSpec(
        s.modelNames(),
        s.targetRef(),
        s.budgetRef(),
        s.gpuMemoryPerReplica(),
        s.priority(),
        s.replicas(),
        s.scaleToZero(),
        s.scaling(),
        s.coldStart(),
        s.schedules(),
        s.admission(),
        s.nodeWarmth(),
        route);
  }

  /**
   * Changes the model's route. The controller writes the model's status concurrently, so a write
   * based on what was read can meet a 409: read again and retry, as a user's kubectl would.
   */
  private void setRoute(Route route) {
    retryOnConflict(
        () ->
            client
                .resources(BudgetedModel.class)
                .inNamespace(NS)
                .withName("llama")
                .edit(
                    m -> {
                      m.setSpec(withRoute(m.getSpec(), route));
                      return m;
                    }));
  }

  private static void retryOnConflict(Runnable write) {
    for (int attempt = 1; ; attempt++) {
      try {
        write.run();
        return;
      } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 20) {
          throw e;
        }
      }
    }
  }

  private BudgetedModel model() {
    return client.resources(BudgetedModel.class).inNamespace(NS).withName("llama").get();
  }

  private HTTPRoute route(String name) {
    return client.resources(HTTPRoute.class).inNamespace(NS).withName(name).get();
  }

  private Optional<Condition> routeAccepted() {
    BudgetedModel m = model();
    if (m == null || m.getStatus() == null) {
      return Optional.empty();
    }
    return m.getStatus().conditions().stream()
        .filter(c -> RouteAcceptance.CONDITION.equals(c.getType()))
        .findFirst();
  }

  private boolean routeAcceptedIs(String status, String reason) {
    return routeAccepted()
        .map(c -> status.equals(c.getStatus()) && reason.equals(c.getReason()))
        .orElse(false);
  }

  /** What the Gateway's controller would write: one parent entry with two conditions. */
  private void gatewayReports(String accepted, String acceptedReason, String resolved) {
    retryOnConflict(
        () ->
            client
                .resources(HTTPRoute.class)
                .inNamespace(NS)
                .withName("llama")
                .editStatus(
                    r ->
                        new HTTPRouteBuilder(r)
                            .withStatus(
                                new HTTPRouteStatusBuilder()
                                    .addToParents(
                                        new RouteParentStatusBuilder()
                                            .withControllerName(
                                                "gateway.envoyproxy.io/gatewayclass-controller")
                                            .withParentRef(
                                                new ParentReferenceBuilder()
                                                    .withGroup("gateway.networking.k8s.io")
                                                    .withKind("Gateway")
                                                    .withNamespace("gateway-system")
                                                    .withName("inference-gateway")
                                                    .withSectionName("http")
                                                    .build())
                                            .withConditions(
                                                condition("Accepted", accepted, acceptedReason, r),
                                                condition(
                                                    "ResolvedRefs", resolved, "ResolvedRefs", r))
                                            .build())
                                    .build())
                            .build()));
  }

  private static Condition condition(String type, String status, String reason, HTTPRoute r) {
    return new ConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withMessage(type + " " + status)
        .withObservedGeneration(r.getMetadata().getGeneration())
        .withLastTransitionTime(T0.toString())
        .build();
  }

  @Test
  void aModelWithSpecRouteGetsAnOwnedHttpRouteMatchingItsKeyAndSendingToItsService()
      throws Exception {
    client.resource(routedModel(new Route(List.of(GATEWAY), null))).create();
    controller(new PrometheusRegistry());

    await().until(() -> route("llama") != null);
    HTTPRoute r = route("llama");
    BudgetedModel m = model();
    assertThat(r.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.getKind()).isEqualTo("BudgetedModel");
              assertThat(o.getApiVersion()).isEqualTo("inferencebudget.dev/v1alpha1");
              assertThat(o.getName()).isEqualTo("llama");
              assertThat(o.getUid()).isEqualTo(m.getMetadata().getUid()).isNotBlank();
              assertThat(o.getController()).isTrue();
            });
    assertThat(r.getMetadata().getLabels())
        .containsEntry(DesiredRoutes.MANAGED_BY_LABEL, DesiredRoutes.MANAGED_BY)
        .containsEntry(DesiredRoutes.MODEL_LABEL, "llama");
    assertThat(r.getSpec().getParentRefs())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.getGroup()).isEqualTo("gateway.networking.k8s.io");
              assertThat(p.getKind()).isEqualTo("Gateway");
              assertThat(p.getNamespace()).isEqualTo("gateway-system");
              assertThat(p.getName()).isEqualTo("inference-gateway");
              assertThat(p.getSectionName()).isEqualTo("http");
            });
    HTTPRouteRule rule = r.getSpec().getRules().get(0);
    assertThat(r.getSpec().getRules()).hasSize(1);
    HTTPHeaderMatch header = rule.getMatches().get(0).getHeaders().get(0);
    assertThat(header.getName()).isEqualTo("x-ibc-model");
    assertThat(header.getValue()).isEqualTo("team-a/llama");
    assertThat(header.getType()).isEqualTo("Exact");
    HTTPBackendRef backend = rule.getBackendRefs().get(0);
    assertThat(backend.getKind()).isEqualTo("Service");
    assertThat(backend.getName()).isEqualTo("llama");
    assertThat(backend.getPort()).isEqualTo(8000);
    assertThat(rule.getTimeouts().getRequest()).isEqualTo("0s");
    // No Gateway controller has reported yet.
    await().until(() -> routeAcceptedIs("Unknown", "Pending"));
  }

  @Test
  void routeAcceptanceFromTheGatewaysStatusIsCopiedIntoTheModelsCondition() throws Exception {
    client.resource(routedModel(new Route(List.of(GATEWAY), null))).create();
    controller(new PrometheusRegistry());
    await().until(() -> route("llama") != null);

    gatewayReports("True", "Accepted", "True");
    await().until(() -> routeAcceptedIs("True", "Accepted"));
    assertThat(routeAccepted().get().getMessage())
        .contains("Gateway gateway-system/inference-gateway listener http");

    gatewayReports("False", "NotAllowedByListeners", "True");
    await().until(() -> routeAcceptedIs("False", "NotAllowedByListeners"));

    gatewayReports("True", "Accepted", "False");
    await().until(() -> routeAcceptedIs("False", "ResolvedRefs"));
  }

  @Test
  void aSpecChangeAndAManualEditAreBothBroughtBackToTheDesiredRoute() throws Exception {
    client.resource(routedModel(new Route(List.of(GATEWAY), null))).create();
    controller(new PrometheusRegistry());
    await().until(() -> route("llama") != null);

    setRoute(new Route(List.of(GATEWAY), new BackendRef("vllm", 9000)));
    await().until(() -> backendPort(route("llama")) == 9000);
    assertThat(route("llama").getSpec().getRules().get(0).getBackendRefs().get(0).getName())
        .isEqualTo("vllm");

    retryOnConflict(
        () ->
            client
                .resources(HTTPRoute.class)
                .inNamespace(NS)
                .withName("llama")
                .edit(
                    r -> {
                      r.getSpec().getRules().get(0).getBackendRefs().get(0).setPort(1234);
                      return r;
                    }));
    await().until(() -> backendPort(route("llama")) == 9000);
  }

  private static int backendPort(HTTPRoute r) {
    return r.getSpec().getRules().get(0).getBackendRefs().get(0).getPort();
  }

  @Test
  void theRouteIsDeletedWhenTheModelDropsSpecRouteAndWhenTheModelIsDeleted() throws Exception {
    client.resource(routedModel(new Route(List.of(GATEWAY), null))).create();
    controller(new PrometheusRegistry());
    await().until(() -> route("llama") != null);

    setRoute(null);
    await().until(() -> route("llama") == null);
    await().until(() -> routeAccepted().isEmpty());

    setRoute(new Route(List.of(GATEWAY), null));
    await().until(() -> route("llama") != null);
    // The mock has no garbage collector: the controller deletes the orphan itself.
    client.resources(BudgetedModel.class).inNamespace(NS).withName("llama").delete();
    await().until(() -> route("llama") == null);
  }

  @Test
  void anHttpRouteOfTheSameNameThatTheControllerDidNotCreateIsLeftAloneAndReported()
      throws Exception {
    HTTPRoute foreign =
        new HTTPRouteBuilder()
            .withNewMetadata()
            .withNamespace(NS)
            .withName("llama")
            .withLabels(Map.of("owner", "someone-else"))
            .endMetadata()
            .withNewSpec()
            .addNewRule()
            .addNewBackendRef()
            .withName("elsewhere")
            .withPort(80)
            .endBackendRef()
            .endRule()
            .endSpec()
            .build();
    client.resource(foreign).create();
    client.resource(routedModel(new Route(List.of(GATEWAY), null))).create();
    controller(new PrometheusRegistry());

    await().until(() -> routeAcceptedIs("False", "RouteNotWritten"));
    assertThat(routeAccepted().get().getMessage()).contains("did not create");
    assertThat(route("llama").getSpec().getRules().get(0).getBackendRefs().get(0).getName())
        .isEqualTo("elsewhere");
    assertThat(route("llama").getMetadata().getOwnerReferences()).isNullOrEmpty();
  }

  @Test
  void anUpdateThatConflictsIsRetriedOnAFreshRead() throws Exception {
    client.resource(routedModel(new Route(List.of(GATEWAY), null))).create();
    PrometheusRegistry registry = new PrometheusRegistry();
    controller(registry);
    await().until(() -> route("llama") != null);
    server
        .expect()
        .put()
        .withPath("/apis/gateway.networking.k8s.io/v1/namespaces/team-a/httproutes/llama")
        .andReturn(
            409,
            new StatusBuilder()
                .withCode(409)
                .withReason("Conflict")
                .withMessage("conflict")
                .build())
        .times(2);

    setRoute(new Route(List.of(GATEWAY), new BackendRef(null, 8080)));

    await().until(() -> backendPort(route("llama")) == 8080);
    assertThat(conflicts(registry)).isGreaterThanOrEqualTo(2);
  }

  private static double conflicts(PrometheusRegistry registry) {
    return registry.scrape().stream()
        .filter(s -> s.getMetadata().getName().equals("ibc_controller_conflicts"))
        .map(s -> (CounterSnapshot) s)
        .flatMap(s -> s.getDataPoints().stream())
        .mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue)
        .sum();
  }

  @Test
  void withoutTheGatewayApiTheControllerRunsAndReportsRouteAcceptedUnknown() throws Exception {
    // A cluster without the Gateway API CRDs answers the HTTPRoute list with 404, every time.
    server
        .expect()
        .get()
        .withPath(
            "/apis/gateway.networking.k8s.io/v1/httproutes?labelSelector="
                + "app.kubernetes.io%2Fmanaged-by%3Dinference-budget-controller&resourceVersion=0")
        .andReturn(
            404,
            new StatusBuilder().withCode(404).withReason("NotFound").withMessage("404").build())
        .always();
    client.resource(routedModel(new Route(List.of(GATEWAY), null))).create();

    controller(new PrometheusRegistry());

    await()
        .until(
            () ->
                model().getStatus() != null
                    && model().getStatus().state()
                        == dev.inferencebudget.controller.api.v1alpha1.ModelState.SCALED_TO_ZERO);
    await().until(() -> routeAcceptedIs("Unknown", "Pending"));
    assertThat(routeAccepted().get().getMessage()).contains("Gateway API");
    assertThat(route("llama")).isNull();
  }
}
