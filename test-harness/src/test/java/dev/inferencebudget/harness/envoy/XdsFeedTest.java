package dev.inferencebudget.harness.envoy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.xds.api.Endpoint;
import dev.inferencebudget.xds.api.ModelEndpoints;
import dev.inferencebudget.xds.api.XdsConfig;
import dev.inferencebudget.xds.resources.EnvoyResources;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The stand-in fed with the resources the project's xDS control plane generates (standalone mode).
 */
class XdsFeedTest {
  static final String KEY = "team-a/llama";

  Vertx vertx;
  TestUpstream upstream;
  EnvoyStandIn envoy;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    upstream = new TestUpstream(vertx);
    envoy = EnvoyStandIn.start(EnvoyStandInConfig.builder().build(), vertx);
  }

  @AfterEach
  void stop() throws Exception {
    envoy.close();
    upstream.close();
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  XdsFeed.Applied applyControlPlaneResources(boolean ready) {
    EnvoyResources resources = new EnvoyResources(XdsConfig.defaults());
    var cluster = resources.cluster(KEY);
    var assignment =
        resources.loadAssignment(
            new ModelEndpoints(KEY, List.of(new Endpoint("127.0.0.1", upstream.port(), ready))));
    return XdsFeed.apply(
        envoy,
        resources.routeConfiguration(List.of(KEY)),
        Map.of(cluster.getName(), cluster),
        Map.of(assignment.getClusterName(), assignment));
  }

  HttpResponse<String> get(String model) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(envoy.baseUrl() + "/v1/models")).GET();
    if (model != null) {
      b.header("x-ibc-model", model);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void controlPlaneRoutesAndEndpointsRouteByTheModelHeader() throws Exception {
    XdsFeed.Applied applied = applyControlPlaneResources(true);

    assertThat(applied.skipped()).isEmpty();
    assertThat(get(KEY).statusCode()).isEqualTo(200);
    assertThat(upstream.received()).hasSize(1);
    // Route timeout 0 (off) for long generations, as the control plane sets it (rule 15).
    assertThat(applied.routes().get(0).timeout()).isEqualTo(Duration.ZERO);
  }

  @Test
  void withoutTheModelHeaderTheFallbackDirectResponseAnswers() throws Exception {
    applyControlPlaneResources(true);

    var response = get(null);

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.body()).isEqualTo(EnvoyResources.FALLBACK_BODY);
    assertThat(upstream.received()).isEmpty();
  }

  @Test
  void aModelWithoutReadyEndpointsHasNoHealthyUpstream() throws Exception {
    applyControlPlaneResources(false);

    assertThat(get(KEY).statusCode()).isEqualTo(503);
  }

  @Test
  void unsupportedRoutesAreReportedNotApproximated() {
    RouteConfiguration config =
        RouteConfiguration.newBuilder()
            .addVirtualHosts(
                io.envoyproxy.envoy.config.route.v3.VirtualHost.newBuilder()
                    .addDomains("*")
                    .addRoutes(
                        io.envoyproxy.envoy.config.route.v3.Route.newBuilder()
                            .setName("regex")
                            .setMatch(
                                RouteMatch.newBuilder()
                                    .setSafeRegex(
                                        io.envoyproxy.envoy.type.matcher.v3.RegexMatcher
                                            .newBuilder()
                                            .setRegex("/v1/.*")))))
            .build();
    List<String> skipped = new ArrayList<>();

    assertThat(XdsFeed.toRoutes(config, skipped)).isEmpty();
    assertThat(skipped).singleElement().asString().contains("regex");
  }
}
