package dev.inferencebudget.xds.resources;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.Durations;
import dev.inferencebudget.xds.api.Endpoint;
import dev.inferencebudget.xds.api.ModelEndpoints;
import dev.inferencebudget.xds.api.XdsConfig;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.util.List;
import org.junit.jupiter.api.Test;

class EnvoyResourcesTest {

  private final EnvoyResources resources = new EnvoyResources(XdsConfig.defaults());

  @Test
  void clusterNamesAreStableValidAndDistinctForDistinctKeys() {
    assertThat(EnvoyResources.clusterName("team-a/llama-3.1-8b"))
        .isEqualTo("ibc_team-a_llama-3_1-8b");
    assertThat(EnvoyResources.clusterName("a/b-c"))
        .isNotEqualTo(EnvoyResources.clusterName("a-b/c"));
    assertThat(EnvoyResources.clusterName("ns/x.y")).doesNotContain(".", "/");
  }

  @Test
  void clusterTakesEndpointsOverAdsWithV3AndRaisedCircuitBreakers() {
    Cluster cluster = resources.cluster("team-a/llama");
    assertThat(cluster.getType()).isEqualTo(Cluster.DiscoveryType.EDS);
    assertThat(cluster.getEdsClusterConfig().getEdsConfig().hasAds()).isTrue();
    assertThat(cluster.getEdsClusterConfig().getEdsConfig().getResourceApiVersion())
        .isEqualTo(ApiVersion.V3);
    assertThat(cluster.getConnectTimeout()).isEqualTo(Durations.fromSeconds(5));
    assertThat(cluster.getLbPolicy()).isEqualTo(Cluster.LbPolicy.LEAST_REQUEST);
    assertThat(cluster.getCircuitBreakers().getThresholds(0).getMaxRequests().getValue())
        .isEqualTo(100_000);
    assertThat(cluster.getTypedExtensionProtocolOptionsMap()).as("HTTP/1.1 by default").isEmpty();
  }

  @Test
  void loadAssignmentPublishesOnlyReadyReplicasAsHealthy() {
    ClusterLoadAssignment cla =
        resources.loadAssignment(
            new ModelEndpoints(
                "ns/m",
                List.of(Endpoint.ready("10.0.0.1", 8000), Endpoint.notReady("10.0.0.2", 8000))));
    assertThat(cla.getClusterName()).isEqualTo("ibc_ns_m");
    assertThat(cla.getEndpointsList()).hasSize(1);
    assertThat(cla.getEndpoints(0).getLoadBalancingWeight().getValue()).isEqualTo(1);
    assertThat(cla.getEndpoints(0).getLbEndpointsList())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getHealthStatus()).isEqualTo(HealthStatus.HEALTHY);
              assertThat(e.getEndpoint().getAddress().getSocketAddress().getAddress())
                  .isEqualTo("10.0.0.1");
            });
    assertThat(resources.loadAssignment(new ModelEndpoints("ns/m", List.of())).getEndpointsCount())
        .isZero();
  }

  @Test
  void loadAssignmentIgnoresEndpointOrderAndDuplicates() {
    ClusterLoadAssignment forward =
        resources.loadAssignment(
            new ModelEndpoints(
                "ns/m",
                List.of(Endpoint.ready("10.0.0.1", 8000), Endpoint.ready("10.0.0.2", 8000))));
    ClusterLoadAssignment reversed =
        resources.loadAssignment(
            new ModelEndpoints(
                "ns/m",
                List.of(
                    Endpoint.ready("10.0.0.2", 8000),
                    Endpoint.ready("10.0.0.1", 8000),
                    Endpoint.ready("10.0.0.2", 8000))));
    assertThat(reversed).isEqualTo(forward);
    assertThat(forward.getEndpoints(0).getLbEndpointsCount()).isEqualTo(2);
  }

  @Test
  void routeTableMatchesTheRoutingHeaderExactlyWithTimeoutOffAndFallsBackTo404() {
    RouteConfiguration routes = resources.routeConfiguration(List.of("ns/b", "ns/a"));
    assertThat(routes.getName()).isEqualTo("llm_routes");
    List<Route> list = routes.getVirtualHosts(0).getRoutesList();
    assertThat(list).extracting(Route::getName).containsExactly("ns/a", "ns/b", "no_model");
    Route a = list.get(0);
    assertThat(a.getMatch().getHeaders(0).getName()).isEqualTo("x-ibc-model");
    assertThat(a.getMatch().getHeaders(0).getStringMatch().getExact()).isEqualTo("ns/a");
    assertThat(a.getRoute().getCluster()).isEqualTo("ibc_ns_a");
    assertThat(Durations.toMillis(a.getRoute().getTimeout())).as("route timeout off").isZero();
    assertThat(a.getRoute().hasTimeout()).isTrue();
    assertThat(a.getRoute().getIdleTimeout()).isEqualTo(Durations.fromSeconds(3600));
    Route fallback = list.get(2);
    assertThat(fallback.getDirectResponse().getStatus()).isEqualTo(404);
    assertThat(fallback.getDirectResponse().getBody().getInlineString())
        .contains("model_not_found");
    assertThat(resources.routeConfiguration(List.of("ns/a", "ns/b"))).isEqualTo(routes);
  }

  @Test
  void standaloneListenerTakesRoutesOverRdsAndHoldsUpToTheLongestHold() throws Exception {
    Listener listener = resources.standaloneListener();
    HttpConnectionManager hcm =
        listener
            .getFilterChains(0)
            .getFilters(0)
            .getTypedConfig()
            .unpack(HttpConnectionManager.class);
    assertThat(hcm.getRds().getRouteConfigName()).isEqualTo("llm_routes");
    assertThat(hcm.getRds().getConfigSource().hasAds()).isTrue();
    assertThat(hcm.getHttpFiltersList())
        .extracting(f -> f.getName())
        .containsExactly("envoy.filters.http.ext_proc", "envoy.filters.http.router");
    ExternalProcessor extProc =
        hcm.getHttpFilters(0).getTypedConfig().unpack(ExternalProcessor.class);
    assertThat(extProc.getMaxMessageTimeout()).isEqualTo(Durations.fromSeconds(900));
    assertThat(Durations.toSeconds(hcm.getStreamIdleTimeout())).isGreaterThan(900);
  }

  @Test
  void grpcApiListenerIsNamedAfterTheTargetAndRoutesEverythingToTheModel() throws Exception {
    Listener listener = resources.grpcApiListener("echo");
    assertThat(listener.getName()).isEqualTo("echo");
    HttpConnectionManager hcm =
        listener.getApiListener().getApiListener().unpack(HttpConnectionManager.class);
    assertThat(hcm.getRds().getRouteConfigName()).isEqualTo("grpc_echo");
    RouteConfiguration routes = resources.grpcRouteConfiguration("echo", "ns/echo");
    assertThat(routes.getVirtualHosts(0).getRoutes(0).getRoute().getCluster())
        .isEqualTo("ibc_ns_echo");
  }
}
