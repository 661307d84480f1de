package dev.inferencebudget.harness.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import dev.inferencebudget.controller.config.ControllerConfig;
import dev.inferencebudget.controller.k8s.BudgetController;
import dev.inferencebudget.xds.api.XdsConfig;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The chart's RBAC against the API calls the controller really makes: the controller runs a
 * scenario (the repository's examples, an activation and a scale-up, budget refusals, an HPA on a
 * target, a 409 on a status write, the HTTPRoute generated for an example's {@code spec.route},
 * changed and removed again, leader election and its release) against fabric8's mock API server;
 * every request its client sent is turned into (API group, resource, verb) and must be granted by
 * the rendered ClusterRole (or, for Leases, the leader-election Role), and every granted (resource,
 * verb) must have been used or be listed in {@link #UNUSED_BUT_JUSTIFIED} with a reason.
 */
class ControllerRbacMatchesApiCallsIT {

  private static final String AGENT = "ibc-controller-under-test";
  private static final String NS = "team-a";
  private static final Path EXAMPLES = Path.of("..", "examples");

  /**
   * Granted access this scenario does not exercise, and why it stays. Keys are {@code
   * group/resource}; every verb on them is covered.
   */
  static final Map<String, String> UNUSED_BUT_JUSTIFIED =
      Map.of(
          "apps/deployments",
          "get and patch: node warmth edits the pod template's preferred node affinity before a"
              + " scale from zero of a model that ran before; this scenario starts every model for"
              + " the first time (budget-controller's BudgetControllerIT covers it)",
          "/pods",
          "get in the release namespace: a standby reads the Lease holder's Pod (its IP) to"
              + " forward to the leader; this scenario runs one replica (budget-controller's"
              + " HighAvailabilityIT covers forwarding)");

  /**
   * Paths every authenticated client may read (the built-in {@code system:discovery} ClusterRole);
   * fabric8 may ask them while it resolves a resource.
   */
  private static final Pattern DISCOVERY =
      Pattern.compile("^/(version|api|apis|openapi/.*|apis/[^/]+(/[^/]+)?|api/v1)/?$");

  private static final Pattern RESOURCE_PATH =
      Pattern.compile(
          "^/(?:api/v1|apis/(?<group>[^/]+)/[^/]+)"
              + "(?:/namespaces/(?<ns>[^/]+))?/(?<resource>[^/]+)"
              + "(?:/(?<name>[^/]+)(?:/(?<sub>[^/]+))?)?$");

  private KubernetesMockServer server;
  private KubernetesClient setup;
  private BudgetController controller;

  @BeforeEach
  void startApiServer() throws Exception {
    Map<ServerRequest, Queue<ServerResponse>> expectations = new HashMap<>();
    server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            expectations,
            new KubernetesMixedDispatcher(expectations),
            false);
    server.init(InetAddress.getByName("127.0.0.1"), 0);
    setup = server.createClient();
  }

  @AfterEach
  void stop() throws Exception {
    if (controller != null) {
      controller.close();
    }
    setup.close();
    try {
      server.destroy();
    } catch (IllegalStateException e) {
      // the mock's Vert.x server waits a fixed few seconds for its connections to close; on a
      // loaded machine that can time out after a passing test: not a finding about RBAC
      java.util.logging.Logger.getLogger(getClass().getName())
          .warning("mock API server did not close in time: " + e.getMessage());
    }
  }

  @Test
  void everyApiCallOfTheControllerIsGrantedAndEveryGrantIsUsedOrJustified() throws Exception {
    createCrdsAndExamples();
    // a status write that meets a 409 makes the controller re-read the object
    conflictOnce("/apis/inferencebudget.dev/v1alpha1/namespaces/team-a/inferencebudgets/team-a");
    conflictOnce(
        "/apis/inferencebudget.dev/v1alpha1/namespaces/team-a/budgetedmodels/llama-3-1-8b");
    List<String> calls = runControllerScenario();

    RenderedChart chart = RenderedChart.render(Map.of());
    Map<String, Set<String>> clusterWide =
        granted(chart.one(ClusterRole.class, RenderedChart.CONTROLLER).getRules());
    Role leaseRole = chart.one(Role.class, RenderedChart.CONTROLLER + "-leader-election");
    Map<String, Set<String>> inReleaseNamespace = granted(leaseRole.getRules());

    Map<String, Set<String>> used = new TreeMap<>();
    Set<String> refused = new TreeSet<>();
    for (String call : calls) {
      ApiCall c = ApiCall.parse(call);
      if (c == null) {
        continue; // discovery
      }
      used.computeIfAbsent(c.groupResource(), k -> new TreeSet<>()).add(c.verb());
      boolean allowed =
          clusterWide.getOrDefault(c.groupResource(), Set.of()).contains(c.verb())
              || (RenderedChart.NAMESPACE.equals(c.namespace())
                  && inReleaseNamespace
                      .getOrDefault(c.groupResource(), Set.of())
                      .contains(c.verb()));
      if (!allowed) {
        refused.add(c + " (" + call + ")");
      }
    }
    assertThat(refused).as("calls the chart's RBAC would refuse (calls seen: %s)", used).isEmpty();

    Map<String, Set<String>> unused = new TreeMap<>();
    for (Map<String, Set<String>> grants : List.of(clusterWide, inReleaseNamespace)) {
      grants.forEach(
          (resource, verbs) -> {
            Set<String> idle = new TreeSet<>(verbs);
            idle.removeAll(used.getOrDefault(resource, Set.of()));
            if (!idle.isEmpty() && !UNUSED_BUT_JUSTIFIED.containsKey(resource)) {
              unused.put(resource, idle);
            }
          });
    }
    assertThat(unused).as("granted but never used (calls seen: %s)", used).isEmpty();
    // the scenario reached every kind of call the controller makes
    assertThat(used)
        .containsEntry("coordination.k8s.io/leases", Set.of("get", "create", "patch"))
        .containsEntry("apps/deployments/scale", Set.of("get", "update"))
        .containsEntry("/events", Set.of("create"))
        .containsEntry(
            "gateway.networking.k8s.io/httproutes",
            Set.of("list", "watch", "get", "create", "update", "delete"))
        .containsKey("inferencebudget.dev/budgetedmodels/status");
  }

  private void createCrdsAndExamples() throws Exception {
    try (DirectoryStream<Path> crds =
        Files.newDirectoryStream(RenderedChart.CHART.resolve("crds"), "*.yaml")) {
      for (Path crd : crds) {
        try (InputStream in = Files.newInputStream(crd)) {
          setup.apiextensions().v1().customResourceDefinitions().load(in).create();
        }
      }
    }
    List<Path> manifests = new java.util.ArrayList<>();
    manifests.add(EXAMPLES.resolve("inference-budget.yaml"));
    try (DirectoryStream<Path> models =
        Files.newDirectoryStream(EXAMPLES, "budgetedmodel-*.yaml")) {
      models.forEach(manifests::add);
    }
    try (DirectoryStream<Path> deployments =
        Files.newDirectoryStream(EXAMPLES.resolve("deployments"), "*.yaml")) {
      deployments.forEach(manifests::add);
    }
    for (Path manifest : manifests) {
      try (InputStream in = Files.newInputStream(manifest)) {
        for (HasMetadata object : setup.load(in).items()) {
          if (object instanceof Deployment d && d.getSpec().getReplicas() == null) {
            // the examples leave spec.replicas to the controller; start them scaled to zero
            d.getSpec().setReplicas(0);
          }
          setup.resource(object).create();
        }
      }
    }
    // another autoscaler on one target: the controller notices it and leaves that target alone
    setup
        .autoscaling()
        .v2()
        .horizontalPodAutoscalers()
        .inNamespace(NS)
        .resource(
            new HorizontalPodAutoscalerBuilder()
                .withNewMetadata()
                .withName("vllm-bge-m3")
                .withNamespace(NS)
                .endMetadata()
                .withNewSpec()
                .withNewScaleTargetRef()
                .withApiVersion("apps/v1")
                .withKind("Deployment")
                .withName("vllm-bge-m3")
                .endScaleTargetRef()
                .withMinReplicas(1)
                .withMaxReplicas(2)
                .endSpec()
                .build())
        .create();
  }

  private void conflictOnce(String objectPath) {
    server
        .expect()
        .put()
        .withPath(objectPath + "/status")
        .andReturn(
            409,
            new StatusBuilder()
                .withCode(409)
                .withReason("Conflict")
                .withMessage("conflict")
                .build())
        .once();
  }

  /** Runs the controller as its {@code Main} would and returns "METHOD path" of its requests. */
  private List<String> runControllerScenario() throws Exception {
    drain(); // the setup client's requests
    KubernetesClient client =
        new KubernetesClientBuilder()
            .withConfig(new ConfigBuilder(setup.getConfiguration()).withUserAgent(AGENT).build())
            .build();
    ControllerConfig defaults = ControllerConfig.defaults();
    ControllerConfig.LeaderElection lease = defaults.leaderElection();
    ControllerConfig config =
        defaults
            .withPorts("127.0.0.1", 0, 0, 0)
            .withTiming(Duration.ofMillis(50), Duration.ofMillis(500))
            .withStartupGrace(Duration.ZERO)
            .withLeaderElection(
                new ControllerConfig.LeaderElection(
                    true,
                    RenderedChart.NAMESPACE,
                    lease.leaseName(),
                    "controller-0",
                    lease.leaseDuration(),
                    lease.renewDeadline(),
                    lease.retryPeriod()));
    controller =
        new BudgetController(
                client,
                config,
                XdsConfig.defaults().withListenAddress("127.0.0.1", 0),
                Clock.systemUTC(),
                new PrometheusRegistry())
            .start();
    await().atMost(Duration.ofSeconds(40)).until(controller::isLeader);
    for (String model : List.of("llama-3-1-8b", "qwen2-5-32b", "bge-m3")) {
      controller.reconciler().activate(NS + "/" + model, "ext-proc-0", Instant.now());
    }
    await()
        .atMost(Duration.ofSeconds(40))
        .until(
            () ->
                setup
                            .apps()
                            .deployments()
                            .inNamespace(NS)
                            .withName("vllm-llama-3-1-8b")
                            .get()
                            .getSpec()
                            .getReplicas()
                        >= 1
                    && !setup.v1().events().inNamespace(NS).list().getItems().isEmpty()
                    && setup
                            .genericKubernetesResources(
                                "inferencebudget.dev/v1alpha1", "BudgetedModel")
                            .inNamespace(NS)
                            .withName("llama-3-1-8b")
                            .get()
                            .get("status")
                        != null);
    generatedRouteIsCreatedChangedAndDeleted();
    controller.close(); // releases the Lease
    controller = null;
    client.close();
    List<String> calls = new java.util.ArrayList<>();
    for (RecordedRequest r : drain()) {
      if (AGENT.equals(r.getHeader("User-Agent"))) {
        calls.add(r.getMethod() + " " + r.getPath());
      }
    }
    assertThat(calls).isNotEmpty();
    return calls;
  }

  /**
   * The HTTPRoute generated for an example's {@code spec.route} (created when the controller
   * started) is written again when the route changes, and deleted when {@code spec.route} goes.
   */
  private void generatedRouteIsCreatedChangedAndDeleted() {
    String model = "llama-3-1-8b"; // its example sets spec.route
    var models = setup.genericKubernetesResources("inferencebudget.dev/v1alpha1", "BudgetedModel");
    var route = setup.resources(HTTPRoute.class).inNamespace(NS).withName(model);
    await().atMost(Duration.ofSeconds(40)).until(() -> backendPort(route.get()), equalTo(8000));
    models
        .inNamespace(NS)
        .withName(model)
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"spec\":{\"route\":{\"backendRef\":{\"port\":8001}}}}");
    await().atMost(Duration.ofSeconds(40)).until(() -> backendPort(route.get()), equalTo(8001));
    models
        .inNamespace(NS)
        .withName(model)
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"route\":null}}");
    await().atMost(Duration.ofSeconds(40)).until(route::get, nullValue());
  }

  private static Integer backendPort(HTTPRoute route) {
    return route == null
        ? null
        : route.getSpec().getRules().get(0).getBackendRefs().get(0).getPort();
  }

  private List<RecordedRequest> drain() throws InterruptedException {
    List<RecordedRequest> requests = new java.util.ArrayList<>();
    RecordedRequest r;
    while ((r = server.takeRequest(200, TimeUnit.MILLISECONDS)) != null) {
      requests.add(r);
    }
    return requests;
  }

  private static Map<String, Set<String>> granted(List<PolicyRule> rules) {
    Map<String, Set<String>> granted = new TreeMap<>();
    for (PolicyRule rule : rules) {
      for (String group : rule.getApiGroups()) {
        for (String resource : rule.getResources()) {
          granted
              .computeIfAbsent(group + "/" + resource, k -> new TreeSet<>())
              .addAll(rule.getVerbs());
        }
      }
    }
    return granted;
  }

  /**
   * One request as RBAC sees it.
   *
   * @param group API group ("" for the core group)
   * @param resource resource, with {@code /subresource} when there is one
   * @param namespace the namespace in the path, or null for a cluster-wide request
   * @param verb get, list, watch, create, update, patch, delete or deletecollection
   */
  record ApiCall(String group, String resource, String namespace, String verb) {

    String groupResource() {
      return group + "/" + resource;
    }

    /** The call of "METHOD path?query", or null for a discovery request. */
    static ApiCall parse(String call) {
      String method = call.substring(0, call.indexOf(' '));
      String target = call.substring(call.indexOf(' ') + 1);
      String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
      String query = target.contains("?") ? target.substring(target.indexOf('?') + 1) : "";
      if (DISCOVERY.matcher(path).matches()) {
        return null;
      }
      Matcher m = RESOURCE_PATH.matcher(path);
      if (!m.matches()) {
        throw new AssertionError("not a Kubernetes API path: " + call);
      }
      String group = m.group("group") == null ? "" : m.group("group");
      String name = m.group("name");
      String resource = m.group("resource") + (m.group("sub") == null ? "" : "/" + m.group("sub"));
      boolean watch = query.matches("(^|.*&)watch=(true|1)(&.*|$)");
      String verb =
          switch (method) {
            case "GET" -> name != null ? "get" : watch ? "watch" : "list";
            case "POST" -> "create";
            case "PUT" -> "update";
            case "PATCH" -> "patch";
            case "DELETE" -> name != null ? "delete" : "deletecollection";
            default -> throw new AssertionError("unexpected method in " + call);
          };
      return new ApiCall(group, resource, m.group("ns"), verb);
    }
  }
}
