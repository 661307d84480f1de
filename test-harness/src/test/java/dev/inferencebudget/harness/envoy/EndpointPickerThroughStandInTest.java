package dev.inferencebudget.harness.envoy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.inferencebudget.extproc.api.ExtProcConfig;
import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.grpc.ExtProcServer;
import dev.inferencebudget.extproc.local.InMemoryControllerLink;
import dev.inferencebudget.extproc.local.InMemoryModelStates;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.vertx.core.Vertx;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The project's ext_proc server in endpoint-picker mode (Gateway API Inference Extension protocol)
 * in front of the stand-in's ORIGINAL_DST cluster, configured as GIE's own Envoy configuration: one
 * catch-all route to {@code original_destination_cluster}, which sends each request to the {@code
 * ip:port} in {@code x-gateway-destination-endpoint} (spec rule 24), and {@code envoy.lb} accepted
 * as a receiving metadata namespace (rule 23). No routing header, no per-model cluster.
 */
class EndpointPickerThroughStandInTest {
  static final String KEY = "team-a/llama";
  static final String MODEL = "llama-3";
  static final String CHAT =
      "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
  static final String DESTINATION = "x-gateway-destination-endpoint";

  static Vertx vertx;
  static HttpClient http;

  InMemoryModelStates models;
  InMemoryControllerLink controller;
  ExtProcServer server;
  TestUpstream replicaA;
  TestUpstream replicaB;
  EnvoyStandIn envoy;

  @BeforeAll
  static void startShared() {
    vertx = Vertx.vertx();
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  }

  @AfterAll
  static void stopShared() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @BeforeEach
  void start() throws Exception {
    replicaA = new TestUpstream(vertx);
    replicaB = new TestUpstream(vertx);
    models = new InMemoryModelStates(List.of(model(true, replicaA, replicaB)));
    controller = new InMemoryControllerLink();
    server =
        ExtProcServer.builder(
                ExtProcServerThroughStandInTest.serverConfig()
                    .withRoutingMode(ExtProcConfig.RoutingMode.ENDPOINT_PICKER))
            .modelStates(models)
            .controllerLink(controller)
            .build()
            .start();
    envoy =
        startEnvoy(
            ExtProcFilterConfig.builder()
                .bodyModes(BodySendMode.BUFFERED, BodySendMode.STREAMED)
                // generous: the first request of a cold JVM on a loaded machine is slow
                .messageTimeout(Duration.ofSeconds(20))
                .maxMessageTimeout(Duration.ofSeconds(60))
                .receivingNamespaces(List.of("envoy.lb"))
                .build());
  }

  EnvoyStandIn startEnvoy(ExtProcFilterConfig extProc) throws Exception {
    EnvoyStandIn started =
        EnvoyStandIn.start(
            EnvoyStandInConfig.builder()
                .perConnectionBufferLimitBytes(16 * 1024 * 1024)
                .streamIdleTimeout(Duration.ofSeconds(30))
                .extProc(extProc, new InetSocketAddress("127.0.0.1", server.port()))
                .build(),
            vertx);
    started.clusters().update(Cluster.originalDestination("original_destination_cluster"));
    started.routes().update(List.of(Route.onPrefix("epp", "/", "original_destination_cluster")));
    return started;
  }

  /**
   * Replaces the stand-in with one configured like GIE's Envoy: request and response bodies
   * FULL_DUPLEX_STREAMED with trailers SEND (spec rules 11 and 16).
   */
  void useFullDuplexLikeGie() throws Exception {
    envoy.close();
    envoy =
        startEnvoy(
            ExtProcFilterConfig.builder()
                .processingMode(ExtProcStreamingTest.fullDuplex(true, true))
                .messageTimeout(Duration.ofSeconds(20))
                .receivingNamespaces(List.of("envoy.lb"))
                .build());
  }

  @AfterEach
  void stop() throws Exception {
    envoy.close();
    server.close();
    replicaA.close();
    replicaB.close();
  }

  /**
   * The model with the given ready replicas; {@code routable} is the controller's xDS view, which
   * endpoint-picker mode does not depend on.
   */
  static ModelState model(boolean routable, TestUpstream... ready) {
    List<ModelState.Endpoint> endpoints =
        java.util.Arrays.stream(ready)
            .map(u -> new ModelState.Endpoint(address(u), true, "pod-" + u.port()))
            .toList();
    ModelState base = ModelState.ready(KEY, List.of(MODEL), endpoints);
    return base.withServing(
        endpoints.isEmpty() ? ModelState.State.SCALED_TO_ZERO : ModelState.State.READY,
        routable,
        endpoints,
        endpoints.size(),
        0);
  }

  static String address(TestUpstream u) {
    return "127.0.0.1:" + u.port();
  }

  HttpRequest.Builder chat() {
    return HttpRequest.newBuilder(URI.create(envoy.baseUrl() + "/v1/chat/completions"))
        .header("content-type", "application/json")
        .header("authorization", "Bearer sk-tenant-a")
        .POST(HttpRequest.BodyPublishers.ofString(CHAT));
  }

  HttpResponse<String> send(HttpRequest request) throws Exception {
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  String envoyLbDestinations() {
    await().atMost(Duration.ofSeconds(5)).until(() -> !envoy.accessLog().isEmpty());
    var metadata = envoy.accessLog().get(0).dynamicMetadata().get("envoy.lb");
    assertThat(metadata).as("envoy.lb dynamic metadata").isNotNull();
    return metadata.getFieldsOrThrow(DESTINATION).getStringValue();
  }

  @Test
  void theRequestReachesThePickedReplicaThroughOriginalDstWithTheOtherAsFallbackInEnvoyLb()
      throws Exception {
    var response = send(chat().build());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(replicaA.received().size() + replicaB.received().size()).isEqualTo(1);
    TestUpstream picked = replicaA.received().isEmpty() ? replicaB : replicaA;
    TestUpstream other = picked == replicaA ? replicaB : replicaA;
    assertThat(picked.received().get(0).headers().get(DESTINATION)).isEqualTo(address(picked));
    // (envoyLbDestinations waits for the access log entry, written after the response)
    assertThat(envoyLbDestinations()).isEqualTo(address(picked) + "," + address(other));
    assertThat(envoy.accessLog().get(0).upstreamHost()).hasValue(address(picked));
  }

  @Test
  void aClientSuppliedDestinationHeaderIsReplacedByThePick() throws Exception {
    models.put(model(true, replicaA));

    var response = send(chat().header(DESTINATION, address(replicaB)).build());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(replicaB.received()).isEmpty();
    assertThat(replicaA.received().get(0).headers().getAll(DESTINATION))
        .containsExactly(address(replicaA));
  }

  @Test
  void withNoReadyReplicaTheRequestIsHeldAndGoesToTheFirstOneReadyWithoutWaitingForXds()
      throws Exception {
    models.put(model(false));

    CompletableFuture<HttpResponse<String>> pending =
        http.sendAsync(chat().build(), HttpResponse.BodyHandlers.ofString());
    await().atMost(Duration.ofSeconds(5)).until(() -> controller.activations().contains(KEY));
    assertThat(pending).isNotDone();

    // Ready endpoint, but no Envoy ever ACKed it over xDS (routable=false): the pick names it.
    models.put(model(false, replicaB));

    var response = pending.get(10, TimeUnit.SECONDS);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(replicaB.received()).hasSize(1);
    assertThat(replicaA.received()).isEmpty();
  }

  @Test
  void nothingReadyWithinTheHoldTimeoutGets503WithRetryAfter() throws Exception {
    models.put(
        model(true).withColdStart(new ModelState.ColdStartPolicy(Duration.ofMillis(300), 10)));

    var response = send(chat().build());

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.headers().firstValue("retry-after")).isPresent();
    assertThat(response.body()).contains("cold_start_timeout");
    assertThat(replicaA.received()).isEmpty();
    assertThat(replicaB.received()).isEmpty();
  }

  @Test
  void requestsBeyondWhatMayBeHeldAreShedWith429() throws Exception {
    ModelState cold =
        model(false).withColdStart(new ModelState.ColdStartPolicy(Duration.ofSeconds(30), 1));
    models.put(cold);
    CompletableFuture<HttpResponse<String>> held =
        http.sendAsync(chat().build(), HttpResponse.BodyHandlers.ofString());
    await().atMost(Duration.ofSeconds(5)).until(() -> controller.activations().contains(KEY));

    var shed = send(chat().build());

    assertThat(shed.statusCode()).isEqualTo(429);
    assertThat(shed.body()).contains("too_many_held_requests");
    models.put(model(false, replicaA).withColdStart(cold.coldStart()));
    assertThat(held.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    assertThat(replicaA.received()).hasSize(1);
  }

  @Test
  void fullDuplexLikeGieRoutesThePickAndStreamsALargeBodyBackWhole() throws Exception {
    useFullDuplexLikeGie();
    models.put(model(true, replicaA));
    String prompt = "x".repeat(200 * 1024);
    String body =
        "{\"model\":\""
            + MODEL
            + "\",\"messages\":[{\"role\":\"user\",\"content\":\""
            + prompt
            + "\"}]}";
    replicaA.handler(
        (req, received) ->
            req.response()
                .putHeader("content-type", "application/json")
                .end(
                    "{\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,"
                        + "\"completion_tokens\":7,\"total_tokens\":12},\"pad\":\""
                        + "y".repeat(100 * 1024)
                        + "\"}"));

    var response = send(chat().POST(HttpRequest.BodyPublishers.ofString(body)).build());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(replicaA.received()).hasSize(1);
    assertThat(replicaA.received().get(0).body().toString()).isEqualTo(body);
    assertThat(replicaA.received().get(0).headers().get(DESTINATION)).isEqualTo(address(replicaA));
    assertThat(response.body()).contains("\"total_tokens\":12").endsWith("y\"}");
    assertThat(response.body().length()).isGreaterThan(100 * 1024);
    assertThat(envoyLbDestinations()).isEqualTo(address(replicaA));
  }

  @Test
  void fullDuplexLikeGieHoldsAColdModelAndReleasesItToTheFirstReadyReplica() throws Exception {
    useFullDuplexLikeGie();
    models.put(model(false));

    CompletableFuture<HttpResponse<String>> pending =
        http.sendAsync(chat().build(), HttpResponse.BodyHandlers.ofString());
    await().atMost(Duration.ofSeconds(5)).until(() -> controller.activations().contains(KEY));
    assertThat(pending).isNotDone();
    models.put(model(false, replicaB));

    var response = pending.get(10, TimeUnit.SECONDS);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(replicaB.received()).hasSize(1);
    assertThat(replicaB.received().get(0).body().toString()).isEqualTo(CHAT);
    assertThat(envoy.stats().get(ExtProcStats.OVERRIDE_MESSAGE_TIMEOUT_IGNORED)).isZero();
  }
}
