package dev.inferencebudget.xds;

import static dev.inferencebudget.xds.XdsControlPlane.CLUSTER_TYPE_URL;
import static dev.inferencebudget.xds.XdsControlPlane.ENDPOINT_TYPE_URL;
import static dev.inferencebudget.xds.XdsControlPlane.LISTENER_TYPE_URL;
import static dev.inferencebudget.xds.XdsControlPlane.ROUTE_TYPE_URL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferencebudget.xds.api.Endpoint;
import dev.inferencebudget.xds.api.ModelEndpoints;
import dev.inferencebudget.xds.api.XdsConfig;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Versioning of the served resources as the controller feeds models (no network). */
class XdsControlPlaneTest {

  private final XdsControlPlane xds =
      XdsControlPlane.create(XdsConfig.defaults(), new PrometheusRegistry());

  @AfterEach
  void close() throws Exception {
    xds.close();
  }

  @Test
  void anEndpointChangeVersionsOnlyThatModelsAssignment() {
    xds.update(List.of(model("ns/a", "10.0.0.1"), model("ns/b", "10.0.0.2")));
    long clusterA = xds.servedVersion(CLUSTER_TYPE_URL, "ibc_ns_a");
    long endpointsA = xds.servedVersion(ENDPOINT_TYPE_URL, "ibc_ns_a");
    long endpointsB = xds.servedVersion(ENDPOINT_TYPE_URL, "ibc_ns_b");
    long routes = xds.servedVersion(ROUTE_TYPE_URL, "llm_routes");

    xds.update(List.of(model("ns/a", "10.0.0.1"), model("ns/b", "10.0.0.3")));

    assertThat(xds.servedVersion(ENDPOINT_TYPE_URL, "ibc_ns_b")).isGreaterThan(endpointsB);
    assertThat(xds.servedVersion(ENDPOINT_TYPE_URL, "ibc_ns_a")).isEqualTo(endpointsA);
    assertThat(xds.servedVersion(CLUSTER_TYPE_URL, "ibc_ns_a")).isEqualTo(clusterA);
    assertThat(xds.servedVersion(ROUTE_TYPE_URL, "llm_routes")).isEqualTo(routes);
  }

  @Test
  void feedingTheSameModelsAgainOrInAnotherOrderChangesNothing() {
    xds.update(List.of(model("ns/a", "10.0.0.1", "10.0.0.2"), model("ns/b", "10.0.0.3")));
    long endpointsA = xds.servedVersion(ENDPOINT_TYPE_URL, "ibc_ns_a");
    long routes = xds.servedVersion(ROUTE_TYPE_URL, "llm_routes");

    xds.update(List.of(model("ns/b", "10.0.0.3"), model("ns/a", "10.0.0.2", "10.0.0.1")));

    assertThat(xds.servedVersion(ENDPOINT_TYPE_URL, "ibc_ns_a")).isEqualTo(endpointsA);
    assertThat(xds.servedVersion(ROUTE_TYPE_URL, "llm_routes")).isEqualTo(routes);
  }

  @Test
  void addingAndRemovingAModelChangesTheRouteTableAndWithdrawsItsResources() {
    xds.update(List.of(model("ns/a", "10.0.0.1")));
    long routes = xds.servedVersion(ROUTE_TYPE_URL, "llm_routes");
    xds.update(List.of(model("ns/a", "10.0.0.1"), model("ns/b")));
    assertThat(xds.servedVersion(ROUTE_TYPE_URL, "llm_routes")).isGreaterThan(routes);
    assertThat(xds.servedVersion(CLUSTER_TYPE_URL, "ibc_ns_b")).isPositive();

    xds.update(List.of(model("ns/b")));
    assertThat(xds.servedVersion(CLUSTER_TYPE_URL, "ibc_ns_a")).isEqualTo(-1);
    assertThat(xds.servedVersion(ENDPOINT_TYPE_URL, "ibc_ns_a")).isEqualTo(-1);
  }

  @Test
  void aModelKeyGivenTwiceIsRejected() {
    assertThatThrownBy(() -> xds.update(List.of(model("ns/a"), model("ns/a", "10.0.0.1"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ns/a given twice");
  }

  @Test
  void grpcTargetsPublishAnApiListenerAndItsRouteTable() {
    xds.setGrpcTargets(Map.of("echo", "ns/a"));
    assertThat(xds.servedVersion(LISTENER_TYPE_URL, "echo")).isPositive();
    assertThat(xds.servedVersion(ROUTE_TYPE_URL, "grpc_echo")).isPositive();
    xds.setGrpcTargets(Map.of());
    assertThat(xds.servedVersion(LISTENER_TYPE_URL, "echo")).isEqualTo(-1);
  }

  private static ModelEndpoints model(String key, String... readyIps) {
    return new ModelEndpoints(
        key, java.util.Arrays.stream(readyIps).map(ip -> Endpoint.ready(ip, 8000)).toList());
  }
}
