package dev.inferencebudget.harness.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.inferencebudget.xds.XdsControlPlane;
import dev.inferencebudget.xds.api.Endpoint;
import dev.inferencebudget.xds.api.ModelEndpoints;
import dev.inferencebudget.xds.api.XdsConfig;
import dev.inferencebudget.xds.resources.EnvoyResources;
import dev.inferencebudget.xds.server.AdsCache;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The control plane against the Envoy-like ADS client, over loopback gRPC. */
class XdsControlPlaneAdsTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final List<AdsClient> clients = new ArrayList<>();
  private XdsControlPlane xds;

  @BeforeEach
  void startServer() throws Exception {
    xds = start(XdsConfig.defaults(), registry);
  }

  @AfterEach
  void stop() throws Exception {
    for (AdsClient client : clients) {
      client.close();
    }
    xds.close();
  }

  @Test
  void standaloneEnvoyReceivesClusterEndpointsAndRouteOfEveryModel() {
    xds.update(
        List.of(
            model(
                "team-a/llama",
                Endpoint.ready("10.0.0.1", 8000),
                Endpoint.notReady("10.0.0.2", 8000)),
            model("team-b/qwen")));
    AdsClient envoy = envoy("envoy-0", ResourceValidator.ACCEPT_ALL);

    String llama = EnvoyResources.clusterName("team-a/llama");
    String qwen = EnvoyResources.clusterName("team-b/qwen");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              assertThat(envoy.clusters()).containsOnlyKeys(llama, qwen);
              assertThat(envoy.endpoints()).containsOnlyKeys(llama, qwen);
              assertThat(envoy.routes()).containsOnlyKeys("llm_routes");
            });
    assertThat(addresses(envoy.endpoints().get(llama))).containsExactly("10.0.0.1:8000");
    assertThat(envoy.endpoints().get(qwen).getEndpointsCount()).isZero();
    List<Route> routes = envoy.routes().get("llm_routes").getVirtualHosts(0).getRoutesList();
    assertThat(routes)
        .extracting(Route::getName)
        .containsExactly("team-a/llama", "team-b/qwen", "no_model");
    assertThat(routes.get(0).getMatch().getHeaders(0).getName()).isEqualTo("x-ibc-model");
    assertThat(routes.get(0).getMatch().getHeaders(0).getStringMatch().getExact())
        .isEqualTo("team-a/llama");
    assertThat(routes.get(0).getRoute().getCluster()).isEqualTo(llama);
    assertThat(routes.get(2).getDirectResponse().getStatus()).isEqualTo(404);
    await().atMost(WAIT).until(() -> xds.isRoutable("team-a/llama"));
    assertThat(xds.isRoutable("team-b/qwen")).as("no ready replica").isFalse();

    assertThat(
            envoy.route(
                "llm_routes",
                "gw:8080",
                "/v1/chat/completions",
                Map.of("x-ibc-model", "team-a/llama")))
        .isInstanceOfSatisfying(
            RouteMatcher.ToCluster.class,
            to -> {
              assertThat(to.cluster()).isEqualTo(llama);
              assertThat(to.endpoints())
                  .extracting(a -> a.getHostString() + ":" + a.getPort())
                  .containsExactly("10.0.0.1:8000");
              assertThat(to.timeout()).isZero();
              assertThat(to.idleTimeout()).isEqualTo(Duration.ofHours(1));
            });
    assertThat(envoy.route("llm_routes", "gw", "/v1/models", Map.of()))
        .isInstanceOfSatisfying(
            RouteMatcher.DirectResponse.class,
            direct -> {
              assertThat(direct.status()).isEqualTo(404);
              assertThat(direct.headers()).containsEntry("content-type", "application/json");
              assertThat(direct.body()).contains("model_not_found");
            });
  }

  @Test
  void oneModelsEndpointChangeSendsOnlyThatModelsAssignment() {
    List<ModelEndpoints> models = new ArrayList<>();
    IntStream.range(0, 50)
        .forEach(i -> models.add(model("ns/m" + i, Endpoint.ready("10.1.0." + i, 8000))));
    xds.update(models);
    AdsClient envoy = envoy("envoy-0", ResourceValidator.ACCEPT_ALL);
    await().atMost(WAIT).until(() -> xds.routableModels().size() == 50);
    int before = envoy.responses().size();

    models.set(
        7, model("ns/m7", Endpoint.ready("10.1.0.7", 8000), Endpoint.ready("10.1.1.7", 8000)));
    xds.update(models);

    String m7 = EnvoyResources.clusterName("ns/m7");
    await()
        .atMost(WAIT)
        .until(() -> envoy.endpoints().get(m7).getEndpoints(0).getLbEndpointsCount() == 2);
    List<ReceivedResponse> after = envoy.responses().subList(before, envoy.responses().size());
    assertThat(after).hasSize(1);
    assertThat(after.get(0).typeUrl()).isEqualTo(AdsClient.ENDPOINT);
    assertThat(after.get(0).resourceNames()).containsExactly(m7);
    assertThat(after.get(0).accepted()).isTrue();
  }

  @Test
  void addingAModelSendsItsClusterEndpointsAndTheRouteTableButNoOtherAssignment() {
    xds.update(List.of(model("ns/a", Endpoint.ready("10.0.0.1", 8000))));
    AdsClient envoy = envoy("envoy-0", ResourceValidator.ACCEPT_ALL);
    await().atMost(WAIT).until(() -> xds.isRoutable("ns/a"));
    int before = envoy.responses().size();

    xds.update(
        List.of(
            model("ns/a", Endpoint.ready("10.0.0.1", 8000)),
            model("ns/b", Endpoint.ready("10.0.0.2", 8000))));

    await().atMost(WAIT).until(() -> xds.isRoutable("ns/b"));
    List<ReceivedResponse> after = envoy.responses().subList(before, envoy.responses().size());
    assertThat(after)
        .filteredOn(r -> r.typeUrl().equals(AdsClient.ENDPOINT))
        .flatExtracting(ReceivedResponse::resourceNames)
        .containsExactly(EnvoyResources.clusterName("ns/b"));
    assertThat(after)
        .filteredOn(r -> r.typeUrl().equals(AdsClient.CLUSTER))
        .singleElement()
        .satisfies(r -> assertThat(r.resourceNames()).hasSize(2));
    assertThat(after).filteredOn(r -> r.typeUrl().equals(AdsClient.ROUTE)).hasSize(1);
  }

  @Test
  void nackedEndpointsKeepTheModelUnroutableAreCountedAndNotResent() {
    AtomicBoolean rejectReady = new AtomicBoolean(true);
    xds.update(List.of(model("ns/a")));
    AdsClient envoy =
        envoy(
            "envoy-0",
            (type, resource) ->
                resource instanceof ClusterLoadAssignment cla
                        && cla.getEndpointsCount() > 0
                        && rejectReady.get()
                    ? Optional.of("endpoint 10.0.0.1 rejected by test")
                    : Optional.empty());
    awaitSyncedClients(1);

    xds.update(List.of(model("ns/a", Endpoint.ready("10.0.0.1", 8000))));

    await().atMost(WAIT).until(() -> nacks("endpoint") == 1.0);
    assertThat(xds.isRoutable("ns/a")).isFalse();
    int afterNack = envoy.responses().size();
    assertThat(envoy.responses().get(afterNack - 1).accepted()).isFalse();

    // nothing is resent until the resource changes again
    rejectReady.set(false);
    xds.update(List.of(model("ns/a", Endpoint.ready("10.0.0.1", 8000))));
    assertThat(envoy.responses()).hasSize(afterNack);
    xds.update(List.of(model("ns/a", Endpoint.ready("10.0.0.9", 8000))));
    await().atMost(WAIT).until(() -> xds.isRoutable("ns/a"));
    assertThat(envoy.responses()).hasSize(afterNack + 1);
  }

  @Test
  void aModelIsRoutableOnlyWhenEveryConnectedEnvoyAckedIt() throws Exception {
    List<String> events = new CopyOnWriteArrayList<>();
    xds.addRoutabilityListener((model, routable) -> events.add(model + "=" + routable));
    xds.update(List.of(model("ns/a")));
    AdsClient healthy = envoy("envoy-0", ResourceValidator.ACCEPT_ALL);
    AdsClient rejecting =
        envoy(
            "envoy-1",
            (type, resource) ->
                resource instanceof ClusterLoadAssignment cla && cla.getEndpointsCount() > 0
                    ? Optional.of("rejected")
                    : Optional.empty());
    awaitSyncedClients(2);

    xds.update(List.of(model("ns/a", Endpoint.ready("10.0.0.1", 8000))));
    await().atMost(WAIT).until(() -> nacks("endpoint") == 1.0);
    await()
        .atMost(WAIT)
        .until(
            () -> healthy.endpoints().values().stream().anyMatch(c -> c.getEndpointsCount() > 0));
    assertThat(xds.isRoutable("ns/a")).isFalse();

    rejecting.close();
    clients.remove(rejecting);

    await().atMost(WAIT).until(() -> xds.isRoutable("ns/a"));
    await().atMost(WAIT).until(() -> events.equals(List.of("ns/a=true")));
  }

  @Test
  void anEnvoyConnectingLaterDoesNotMakeRoutableModelsFlap() {
    List<String> events = new CopyOnWriteArrayList<>();
    xds.addRoutabilityListener((model, routable) -> events.add(model + "=" + routable));
    List<ModelEndpoints> models = new ArrayList<>();
    IntStream.range(0, 200)
        .forEach(
            i -> models.add(model("ns/m" + i, Endpoint.ready("10.2.0." + (i % 250), 8000 + i))));
    xds.update(models);
    envoy("envoy-0", ResourceValidator.ACCEPT_ALL);
    await().atMost(WAIT).until(() -> events.size() == 200);

    AdsClient late = envoy("envoy-1", ResourceValidator.ACCEPT_ALL);
    await().atMost(WAIT).until(() -> late.endpoints().size() == 200 && late.routes().size() == 1);
    // the late Envoy's ACKs are in; a model that had flapped would show up as false
    xds.update(List.of());
    await().atMost(WAIT).until(() -> xds.routableModels().isEmpty());
    assertThat(events.subList(0, 200)).allMatch(e -> e.endsWith("=true"));
    assertThat(events.subList(200, events.size())).hasSize(200).allMatch(e -> e.endsWith("=false"));
  }

  @Test
  void scaledToZeroModelStopsBeingRoutableAndARemovedModelIsWithdrawn() {
    List<String> events = new CopyOnWriteArrayList<>();
    xds.addRoutabilityListener((model, routable) -> events.add(model + "=" + routable));
    xds.update(List.of(model("ns/a", Endpoint.ready("10.0.0.1", 8000)), model("ns/b")));
    AdsClient envoy = envoy("envoy-0", ResourceValidator.ACCEPT_ALL);
    await().atMost(WAIT).until(() -> xds.isRoutable("ns/a"));

    xds.update(List.of(model("ns/a"), model("ns/b")));
    await().atMost(WAIT).until(() -> !xds.isRoutable("ns/a"));

    xds.update(List.of(model("ns/b")));
    String a = EnvoyResources.clusterName("ns/a");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              assertThat(envoy.clusters()).doesNotContainKey(a);
              assertThat(envoy.subscribedNames(AdsClient.ENDPOINT)).doesNotContain(a);
              assertThat(envoy.routes().get("llm_routes").getVirtualHosts(0).getRoutesList())
                  .extracting(Route::getName)
                  .containsExactly("ns/b", "no_model");
            });
    assertThat(events).containsExactly("ns/a=true", "ns/a=false");
  }

  @Test
  void withoutConnectedEnvoysAModelIsNotRoutableUnlessConfiguredOtherwise() throws Exception {
    xds.update(List.of(model("ns/a", Endpoint.ready("10.0.0.1", 8000))));
    assertThat(xds.isRoutable("ns/a")).isFalse();

    XdsControlPlane lenient =
        start(XdsConfig.defaults().withWithoutEnvoys(XdsConfig.WithoutEnvoys.READY_ENDPOINT));
    try {
      lenient.update(List.of(model("ns/a", Endpoint.ready("10.0.0.1", 8000)), model("ns/b")));
      assertThat(lenient.routableModels()).containsExactly("ns/a");
    } finally {
      lenient.close();
    }
  }

  @Test
  void dynamicListenersCarryTheStandaloneListenerAndItsRoutes() throws Exception {
    XdsControlPlane standalone =
        start(
            XdsConfig.defaults()
                .withStandaloneListener(XdsConfig.StandaloneListener.defaults().withEnabled(true)));
    try {
      standalone.update(List.of(model("ns/a", Endpoint.ready("10.0.0.1", 8000))));
      AdsClient envoy =
          track(
              AdsClient.connect(
                  "127.0.0.1",
                  standalone.port(),
                  new AdsClient.Options(
                      "envoy-lds",
                      "llm-gw",
                      true,
                      java.util.Set.of(),
                      ResourceValidator.ACCEPT_ALL,
                      System::nanoTime)));
      await()
          .atMost(WAIT)
          .untilAsserted(
              () -> {
                assertThat(envoy.listeners()).containsOnlyKeys("http");
                assertThat(envoy.routes()).containsOnlyKeys("llm_routes");
              });
      await().atMost(WAIT).until(() -> standalone.isRoutable("ns/a"));
    } finally {
      standalone.close();
    }
  }

  @Test
  void anIncrementalXdsClientIsRefusedWithUnimplemented() throws Exception {
    io.grpc.ManagedChannel channel =
        io.grpc.ManagedChannelBuilder.forAddress("127.0.0.1", xds.port()).usePlaintext().build();
    try {
      java.util.concurrent.CompletableFuture<Throwable> closed =
          new java.util.concurrent.CompletableFuture<>();
      var requests =
          AggregatedDiscoveryServiceGrpc.newStub(channel)
              .deltaAggregatedResources(
                  new io.grpc.stub.StreamObserver<DeltaDiscoveryResponse>() {
                    @Override
                    public void onNext(DeltaDiscoveryResponse response) {
                      closed.completeExceptionally(new AssertionError("got a response"));
                    }

                    @Override
                    public void onError(Throwable t) {
                      closed.complete(t);
                    }

                    @Override
                    public void onCompleted() {
                      closed.completeExceptionally(new AssertionError("completed"));
                    }
                  });
      requests.onNext(DeltaDiscoveryRequest.newBuilder().setTypeUrl(AdsClient.CLUSTER).build());
      assertThat(
              io.grpc.Status.fromThrowable(closed.get(10, java.util.concurrent.TimeUnit.SECONDS)))
          .satisfies(
              status -> {
                assertThat(status.getCode()).isEqualTo(io.grpc.Status.Code.UNIMPLEMENTED);
                assertThat(status.getDescription()).contains("api_type: GRPC");
              });
    } finally {
      channel.shutdownNow();
    }
  }

  private void awaitSyncedClients(int count) {
    await()
        .atMost(WAIT)
        .until(
            () ->
                xds.ackedVersions().stream().filter(AdsCache.ClientAcks::synced).count() == count);
  }

  private XdsControlPlane start(XdsConfig config) throws Exception {
    return start(config, new PrometheusRegistry());
  }

  private static XdsControlPlane start(XdsConfig config, PrometheusRegistry registry)
      throws Exception {
    return XdsControlPlane.create(config.withListenAddress("127.0.0.1", 0), registry).start();
  }

  private AdsClient envoy(String nodeId, ResourceValidator validator) {
    return track(
        AdsClient.connect(
            "127.0.0.1",
            xds.port(),
            AdsClient.Options.standaloneEnvoy(nodeId, "llm_routes").withValidator(validator)));
  }

  private AdsClient track(AdsClient client) {
    clients.add(client);
    return client;
  }

  private double nacks(String type) {
    return registry.scrape().stream()
        .filter(s -> s.getMetadata().getPrometheusName().equals("ibc_xds_nacks"))
        .flatMap(s -> ((CounterSnapshot) s).getDataPoints().stream())
        .filter(d -> d.getLabels().get("type").equals(type))
        .mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue)
        .sum();
  }

  private static ModelEndpoints model(String key, Endpoint... endpoints) {
    return new ModelEndpoints(key, List.of(endpoints));
  }

  private static List<String> addresses(ClusterLoadAssignment assignment) {
    return assignment.getEndpointsList().stream()
        .flatMap(l -> l.getLbEndpointsList().stream())
        .map(e -> e.getEndpoint().getAddress().getSocketAddress())
        .map(a -> a.getAddress() + ":" + a.getPortValue())
        .toList();
  }
}
