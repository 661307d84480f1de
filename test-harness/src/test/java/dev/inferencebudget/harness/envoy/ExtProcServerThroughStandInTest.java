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
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The project's real ext_proc server ({@code ext-proc} module) driven through the stand-in,
 * configured as the spec's bootstrap: request body BUFFERED, response body STREAMED, {@code
 * max_message_timeout} enabling holds, routing by {@code x-ibc-model} with {@code
 * clear_route_cache}.
 */
class ExtProcServerThroughStandInTest {
  static final String KEY = "team-a/llama";
  static final String MODEL = "llama-3";
  static final String CHAT =
      "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";

  static Vertx vertx;
  static HttpClient http;

  InMemoryModelStates models;
  InMemoryControllerLink controller;
  ExtProcServer server;
  TestUpstream upstream;
  TestUpstream decoy;
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

  static ExtProcConfig serverConfig() {
    ExtProcConfig d = ExtProcConfig.defaults();
    return new ExtProcConfig(
        "127.0.0.1",
        0,
        -1,
        "ext-proc-test",
        d.routingMode(),
        d.routingHeader(),
        d.maxRequestBodyBytes(),
        Duration.ofSeconds(60),
        Duration.ofSeconds(60),
        d.tenantHeaderDefault(),
        d.priorityHeader(),
        Optional.empty());
  }

  @BeforeEach
  void start() throws Exception {
    upstream = new TestUpstream(vertx);
    decoy = new TestUpstream(vertx);
    upstream.handler(
        (req, body) ->
            req.response()
                .putHeader("content-type", "application/json")
                .end(
                    "{\"id\":\"c1\",\"object\":\"chat.completion\",\"choices\":[],"
                        + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7,\"total_tokens\":12}}"));
    models = new InMemoryModelStates(List.of(readyModel()));
    controller = new InMemoryControllerLink();
    server =
        ExtProcServer.builder(serverConfig())
            .modelStates(models)
            .controllerLink(controller)
            .build()
            .start();
    envoy =
        EnvoyStandIn.start(
            EnvoyStandInConfig.builder()
                .perConnectionBufferLimitBytes(16 * 1024 * 1024)
                .streamIdleTimeout(Duration.ofSeconds(30))
                .extProc(
                    ExtProcFilterConfig.builder()
                        .bodyModes(BodySendMode.BUFFERED, BodySendMode.STREAMED)
                        .messageTimeout(Duration.ofSeconds(2))
                        .maxMessageTimeout(Duration.ofSeconds(60))
                        .receivingNamespaces(List.of("envoy.lb"))
                        .build(),
                    new InetSocketAddress("127.0.0.1", server.port()))
                .build(),
            vertx);
    envoy.clusters().update(Cluster.ofEndpoints(KEY, List.of(upstream.endpoint())));
    envoy.clusters().update(Cluster.ofEndpoints("other/model", List.of(decoy.endpoint())));
    envoy
        .routes()
        .update(
            List.of(
                Route.onHeader(KEY, "x-ibc-model", KEY, KEY),
                Route.onHeader("other", "x-ibc-model", "other/model", "other/model")));
  }

  @AfterEach
  void stop() throws Exception {
    envoy.close();
    server.close();
    upstream.close();
    decoy.close();
  }

  ModelState readyModel() {
    return ModelState.ready(
        KEY,
        List.of(MODEL),
        List.of(new ModelState.Endpoint("127.0.0.1:" + upstream.port(), true, "pod-0")));
  }

  HttpRequest.Builder chat(String body) {
    return HttpRequest.newBuilder(URI.create(envoy.baseUrl() + "/v1/chat/completions"))
        .header("content-type", "application/json")
        .header("authorization", "Bearer sk-tenant-a")
        .POST(HttpRequest.BodyPublishers.ofString(body));
  }

  HttpResponse<String> send(HttpRequest request) throws Exception {
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void openAiRequestIsRoutedByTheRoutingHeaderTheServerSets() throws Exception {
    var response = send(chat(CHAT).build());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(upstream.received()).hasSize(1);
    assertThat(upstream.received().get(0).headers().get("x-ibc-model")).isEqualTo(KEY);
    assertThat(upstream.received().get(0).body().toString()).contains(MODEL);
    await().atMost(Duration.ofSeconds(5)).until(() -> !envoy.accessLog().isEmpty());
    assertThat(envoy.accessLog().get(0).route()).hasValue(KEY);
  }

  @Test
  void spoofedRoutingAndEndpointHeadersNeverReachTheUpstream() throws Exception {
    var response =
        send(
            chat(CHAT)
                .header("x-ibc-model", "other/model")
                .header("x-gateway-destination-endpoint", "10.0.0.9:8000")
                .build());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(decoy.received()).isEmpty();
    var received = upstream.received().get(0).headers();
    assertThat(received.getAll("x-ibc-model")).containsExactly(KEY);
    assertThat(received.contains("x-gateway-destination-endpoint")).isFalse();
  }

  @Test
  void coldStartHoldOutlivesTheMessageTimeoutAndIsReleasedWhenTheModelBecomesRoutable()
      throws Exception {
    ModelState ready = readyModel();
    models.put(ready.withServing(ModelState.State.SCALED_TO_ZERO, false, List.of(), 0, 0));

    CompletableFuture<HttpResponse<String>> pending =
        http.sendAsync(chat(CHAT).build(), HttpResponse.BodyHandlers.ofString());
    await().atMost(Duration.ofSeconds(5)).until(() -> controller.activations().contains(KEY));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> envoy.stats().get(ExtProcStats.OVERRIDE_MESSAGE_TIMEOUT_RECEIVED) == 1);
    // Held past the 2 s message timeout: only the override keeps the request alive.
    await()
        .pollDelay(Duration.ofMillis(2500))
        .atMost(Duration.ofSeconds(8))
        .until(() -> !pending.isDone());

    models.put(ready);

    var response = pending.get(10, TimeUnit.SECONDS);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(upstream.received()).hasSize(1);
    assertThat(envoy.stats().get(ExtProcStats.MESSAGE_TIMEOUTS)).isZero();
  }

  @Test
  void overTheRequestRateGets429WithOpenAiJsonAndRetryAfter() throws Exception {
    models.put(readyModel().withAdmission(rateLimited(1)));

    assertThat(send(chat(CHAT).build()).statusCode()).isEqualTo(200);
    var limited = send(chat(CHAT).build());

    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(limited.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(limited.headers().firstValue("retry-after")).isPresent();
    assertThat(limited.body()).contains("\"error\"").contains("rate_limit_exceeded");
    assertThat(upstream.received()).hasSize(1);
  }

  @Test
  void malformedJsonGets400WithOpenAiJson() throws Exception {
    var response = send(chat("{\"model\": \"llama-3\", \"messages\": [").build());

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(response.body()).contains("\"error\"").contains("\"type\"");
    assertThat(upstream.received()).isEmpty();
  }

  @Test
  void unknownModelGets404ModelNotFound() throws Exception {
    var response = send(chat(CHAT.replace(MODEL, "no-such-model")).build());

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.body()).contains("model_not_found");
  }

  static ModelState.AdmissionPolicy rateLimited(long requestsPerMinute) {
    return new ModelState.AdmissionPolicy(
        0,
        0,
        ModelState.MaxTokensPolicy.CLAMP,
        0,
        requestsPerMinute,
        "",
        10,
        Duration.ofSeconds(30),
        "");
  }
}
