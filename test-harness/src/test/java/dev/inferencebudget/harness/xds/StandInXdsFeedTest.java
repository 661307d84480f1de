package dev.inferencebudget.harness.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.inferencebudget.harness.envoy.Cluster;
import dev.inferencebudget.harness.envoy.ClusterManager;
import dev.inferencebudget.harness.envoy.Route;
import dev.inferencebudget.harness.envoy.RouteTable;
import dev.inferencebudget.xds.XdsControlPlane;
import dev.inferencebudget.xds.api.Endpoint;
import dev.inferencebudget.xds.api.ModelEndpoints;
import dev.inferencebudget.xds.api.XdsConfig;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.MultiMap;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class StandInXdsFeedTest {

  @Test
  void standInRoutesAndClustersFollowTheControlPlane() throws Exception {
    XdsControlPlane xds =
        XdsControlPlane.create(
                XdsConfig.defaults().withListenAddress("127.0.0.1", 0), new PrometheusRegistry())
            .start();
    RouteTable routes = new RouteTable();
    ClusterManager clusters = new ClusterManager();
    clusters.update(Cluster.originalDestination("original_destination_cluster"));
    try (AdsClient envoy =
            AdsClient.connect(
                "127.0.0.1",
                xds.port(),
                AdsClient.Options.standaloneEnvoy("standin", "llm_routes"));
        StandInXdsFeed feed = StandInXdsFeed.attach(envoy, "llm_routes", routes, clusters)) {
      xds.update(
          List.of(
              new ModelEndpoints("ns/a", List.of(Endpoint.ready("127.0.0.1", 9001))),
              new ModelEndpoints("ns/b", List.of())));

      MultiMap request =
          MultiMap.caseInsensitiveMultiMap()
              .add(":path", "/v1/chat/completions")
              .add("x-ibc-model", "ns/a");
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                assertThat(routes.match(request)).map(Route::cluster).contains("ibc_ns_a");
                assertThat(clusters.get("ibc_ns_a"))
                    .map(Cluster::endpoints)
                    .contains(List.of(new Cluster.Endpoint("127.0.0.1", 9001)));
              });
      assertThat(routes.match(MultiMap.caseInsensitiveMultiMap().add(":path", "/v1/models")))
          .flatMap(Route::directResponse)
          .hasValueSatisfying(direct -> assertThat(direct.status()).isEqualTo(404));
      Route route = routes.match(request).orElseThrow();
      assertThat(route.timeout()).isZero();
      assertThat(route.idleTimeout()).contains(Duration.ofHours(1));
      assertThat(routes.routes())
          .extracting(Route::name)
          .containsExactly("ns/a", "ns/b", "no_model");

      xds.update(List.of(new ModelEndpoints("ns/b", List.of(Endpoint.ready("127.0.0.1", 9002)))));
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                assertThat(clusters.get("ibc_ns_a")).isEmpty();
                assertThat(clusters.get("ibc_ns_b").orElseThrow().endpoints()).hasSize(1);
                assertThat(routes.routes())
                    .extracting(Route::name)
                    .containsExactly("ns/b", "no_model");
              });
      assertThat(clusters.get("original_destination_cluster")).as("left alone").isPresent();
    } finally {
      xds.close();
    }
  }
}
