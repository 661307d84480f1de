package dev.inferencebudget.harness.envoy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.inferencebudget.extproc.api.ExtProcConfig;
import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.grpc.ExtProcServer;
import dev.inferencebudget.extproc.local.InMemoryControllerLink;
import dev.inferencebudget.extproc.local.InMemoryModelStates;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.HeaderSendMode;
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
import org.junit.jupiter.api.Test;

/**
 * The project's ext_proc server behind the stand-in with request body modes other than BUFFERED
 * (spec rules 9-11): FULL_DUPLEX_STREAMED bodies are accumulated, admitted and streamed back after
 * a delayed headers answer; STREAMED, which cannot route by body, is refused clearly; a
 * BUFFERED_PARTIAL body cut at Envoy's limit is refused as too large.
 */
class ExtProcServerBodyModesTest {
  static final String KEY = "team-a/llama";
  static final String MODEL = "llama-3";
  static final String CHAT =
      "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
  static final int MAX_BODY_BYTES = 512 * 1024;

  static Vertx vertx;
  static HttpClient http;

  InMemoryModelStates models;
  InMemoryControllerLink controller;
  ExtProcServer server;
  TestUpstream upstream;
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

  void start(BodySendMode requestMode, BodySendMode responseMode, long envoyBufferBytes)
      throws Exception {
    upstream = new TestUpstream(vertx);
    upstream.handler(
        (req, body) ->
            req.response()
                .putHeader("content-type", "application/json")
                .end(
                    "{\"id\":\"c1\",\"object\":\"chat.completion\",\"choices\":[],"
                        + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7,\"total_tokens\":12}}"));
    models =
        new InMemoryModelStates(
            List.of(
                ModelState.ready(
                    KEY,
                    List.of(MODEL),
                    List.of(
                        new ModelState.Endpoint("127.0.0.1:" + upstream.port(), true, "pod-0")))));
    controller = new InMemoryControllerLink();
    ExtProcConfig d = ExtProcConfig.defaults();
    server =
        ExtProcServer.builder(
                new ExtProcConfig(
                    "127.0.0.1",
                    0,
                    -1,
                    "ext-proc-test",
                    d.routingMode(),
                    d.routingHeader(),
                    MAX_BODY_BYTES,
                    Duration.ofSeconds(60),
                    Duration.ofSeconds(60),
                    d.tenantHeaderDefault(),
                    d.priorityHeader(),
                    Optional.empty()))
            .modelStates(models)
            .controllerLink(controller)
            .build()
            .start();
    // Spec rule 11: FULL_DUPLEX_STREAMED needs trailer mode SEND in its direction.
    ProcessingMode mode =
        ProcessingMode.newBuilder()
            .setRequestHeaderMode(HeaderSendMode.SEND)
            .setResponseHeaderMode(HeaderSendMode.SEND)
            .setRequestBodyMode(requestMode)
            .setResponseBodyMode(responseMode)
            .setRequestTrailerMode(trailers(requestMode))
            .setResponseTrailerMode(trailers(responseMode))
            .build();
    envoy =
        EnvoyStandIn.start(
            EnvoyStandInConfig.builder()
                .perConnectionBufferLimitBytes(envoyBufferBytes)
                .streamIdleTimeout(Duration.ofSeconds(30))
                .extProc(
                    ExtProcFilterConfig.builder()
                        .processingMode(mode)
                        .messageTimeout(Duration.ofSeconds(2))
                        .maxMessageTimeout(Duration.ofSeconds(60))
                        .build(),
                    new InetSocketAddress("127.0.0.1", server.port()))
                .build(),
            vertx);
    envoy.clusters().update(Cluster.ofEndpoints(KEY, List.of(upstream.endpoint())));
    envoy.routes().update(List.of(Route.onHeader(KEY, "x-ibc-model", KEY, KEY)));
  }

  static HeaderSendMode trailers(BodySendMode mode) {
    return mode == BodySendMode.FULL_DUPLEX_STREAMED ? HeaderSendMode.SEND : HeaderSendMode.SKIP;
  }

  @AfterEach
  void stop() throws Exception {
    if (envoy != null) {
      envoy.close();
      server.close();
      upstream.close();
    }
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

  static String longChat(int bytes) {
    String words = "the budget controller holds the request until a replica is ready ";
    return CHAT.replace("hello", words.repeat(bytes / words.length()));
  }

  @Test
  void fullDuplexBodyIsAdmittedRoutedAndForwardedByteForByte() throws Exception {
    start(BodySendMode.FULL_DUPLEX_STREAMED, BodySendMode.STREAMED, 1024 * 1024);
    String body = longChat(200 * 1024); // many chunks on the way in

    var response = send(chat(body).header("x-ibc-model", "spoofed/model").build());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(upstream.received()).hasSize(1);
    var received = upstream.received().get(0);
    assertThat(received.headers().getAll("x-ibc-model")).containsExactly(KEY);
    assertThat(received.body().toString()).isEqualTo(body);
    assertThat(response.headers().firstValue("x-ratelimit-limit-requests")).isEmpty();
  }

  @Test
  void fullDuplexBothWaysEchoesTheResponseBodyAndRewritesAClampedRequest() throws Exception {
    start(BodySendMode.FULL_DUPLEX_STREAMED, BodySendMode.FULL_DUPLEX_STREAMED, 1024 * 1024);
    models.put(
        models
            .current()
            .byName(MODEL)
            .orElseThrow()
            .withAdmission(
                new ModelState.AdmissionPolicy(
                    0,
                    8,
                    ModelState.MaxTokensPolicy.CLAMP,
                    0,
                    0,
                    "",
                    10,
                    Duration.ofSeconds(30),
                    "")));

    var response = send(chat(CHAT.replace("}]}", "}],\"max_tokens\":500}")).build());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).contains("\"total_tokens\":12");
    String forwarded = upstream.received().get(0).body().toString();
    assertThat(forwarded).contains("\"max_tokens\":8}").doesNotContain("500");
  }

  @Test
  void fullDuplexBodyOverTheServersLimitIs413AndNeverForwarded() throws Exception {
    start(BodySendMode.FULL_DUPLEX_STREAMED, BodySendMode.STREAMED, 4 * 1024 * 1024);

    var response = send(chat(longChat(MAX_BODY_BYTES + 1024)).build());

    assertThat(response.statusCode()).isEqualTo(413);
    assertThat(response.body()).contains("request_too_large");
    assertThat(upstream.received()).isEmpty();
  }

  @Test
  void fullDuplexRequestForAColdModelIsHeldWithoutAnOverrideThenForwarded() throws Exception {
    start(BodySendMode.FULL_DUPLEX_STREAMED, BodySendMode.STREAMED, 1024 * 1024);
    ModelState ready = models.current().byName(MODEL).orElseThrow();
    models.put(ready.withServing(ModelState.State.SCALED_TO_ZERO, false, List.of(), 0, 0));

    CompletableFuture<HttpResponse<String>> pending =
        http.sendAsync(chat(CHAT).build(), HttpResponse.BodyHandlers.ofString());
    await().atMost(Duration.ofSeconds(5)).until(() -> controller.activations().contains(KEY));
    // Past the 2 s message timeout, which FULL_DUPLEX_STREAMED does not arm (spec rule 12).
    await()
        .pollDelay(Duration.ofMillis(2500))
        .atMost(Duration.ofSeconds(8))
        .until(() -> !pending.isDone());
    models.put(ready);

    assertThat(pending.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    assertThat(envoy.stats().get(ExtProcStats.OVERRIDE_MESSAGE_TIMEOUT_RECEIVED)).isZero();
    assertThat(upstream.received()).hasSize(1);
  }

  @Test
  void fullDuplexRefusalIsAnOpenAiErrorAndNothingIsForwarded() throws Exception {
    start(BodySendMode.FULL_DUPLEX_STREAMED, BodySendMode.STREAMED, 1024 * 1024);

    var malformed = send(chat("{\"model\": \"llama-3\", \"messages\": [").build());
    var unknown = send(chat(CHAT.replace(MODEL, "no-such-model")).build());

    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(malformed.body()).contains("invalid_json");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(upstream.received()).isEmpty();
  }

  @Test
  void streamedRequestBodiesAreRefusedClearlyBecauseTheyCannotBeRoutedByModel() throws Exception {
    start(BodySendMode.STREAMED, BodySendMode.STREAMED, 1024 * 1024);

    var response = send(chat(CHAT).build());

    assertThat(response.statusCode()).isEqualTo(500);
    assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(response.body()).contains("unsupported_body_mode").contains("BUFFERED");
    assertThat(upstream.received()).isEmpty();
  }

  @Test
  void bufferedPartialAdmitsWholeBodiesAndRefusesOnesCutAtEnvoysLimit() throws Exception {
    start(BodySendMode.BUFFERED_PARTIAL, BodySendMode.STREAMED, 64 * 1024);

    assertThat(send(chat(CHAT).build()).statusCode()).isEqualTo(200);
    var cut = send(chat(longChat(128 * 1024)).build());

    assertThat(cut.statusCode()).isEqualTo(413);
    assertThat(upstream.received()).hasSize(1);
  }
}
