package dev.inferencebudget.harness.vllm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The simulator over HTTP with its engine on a manual clock: load time, queueing, metrics and sleep
 * mode are asserted as exact values in simulated time, not as wall-clock thresholds.
 */
class VllmSimulatorTimingTest {
  private static final String MODEL = "llama-8b";
  private static final String MODEL_LABEL = "model_name=\"" + MODEL + "\"";
  private static Vertx vertx;
  private static final HttpClient http = HttpClient.newHttpClient();
  private final ManualScheduler clock = new ManualScheduler();
  private VllmSimulator sim;

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
  }

  @AfterAll
  static void stopVertx() {
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  @AfterEach
  void stop() {
    if (sim != null) {
      sim.close();
    }
  }

  /**
   * Load time 2 s; 1,000 prompt tokens/s and 100 output tokens/s; one sequence at a time. A chat
   * with one 36-byte user message is 3 + 4 + 9 = 16 prompt tokens (16 ms of prefill).
   */
  private VllmSimulator start() {
    sim =
        VllmSimulator.start(
            vertx,
            VllmSimulatorConfig.builder()
                .servedModelNames(List.of(MODEL))
                .loadTime(Duration.ofSeconds(2))
                .prefillTokensPerSecond(1_000)
                .decodeTokensPerSecond(100)
                .maxNumSeqs(1)
                .gpuMemoryBytes(20_000_000_000L)
                .build(),
            clock);
    return sim;
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(sim.baseUrl() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private CompletableFuture<HttpResponse<String>> post(String path, JsonObject body) {
    return http.sendAsync(
        HttpRequest.newBuilder(URI.create(sim.baseUrl() + path))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.encode()))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static JsonObject chat(int maxTokens) {
    return new JsonObject()
        .put("model", MODEL)
        .put("max_tokens", maxTokens)
        .put(
            "messages",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("role", "user")
                        .put("content", "Tell me about the quick brown foxes.")));
  }

  private PrometheusText metrics() throws Exception {
    HttpResponse<String> r = get("/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    return new PrometheusText(r.body());
  }

  @Test
  void healthAnswers503UntilTheLoadTimeHasPassedThen200() throws Exception {
    start();

    assertThat(get("/health").statusCode()).isEqualTo(503);
    HttpResponse<String> early = post("/v1/chat/completions", chat(1)).join();
    assertThat(early.statusCode()).isEqualTo(503);
    clock.advance(Duration.ofMillis(1_999));
    assertThat(get("/health").statusCode()).isEqualTo(503);
    clock.advance(Duration.ofMillis(1));

    assertThat(get("/health").statusCode()).isEqualTo(200);
    assertThat(sim.loaded()).isDone();
  }

  @Test
  void metricsUseVllmNamesAndLabels() throws Exception {
    start();
    clock.advance(Duration.ofSeconds(2));

    PrometheusText m = metrics();

    for (String gauge :
        List.of(
            "vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc")) {
      assertThat(m.require(gauge, MODEL_LABEL, "engine=\"0\"")).as(gauge).isZero();
    }
    assertThat(m.require("vllm:prompt_tokens_total", MODEL_LABEL)).isZero();
    assertThat(m.require("vllm:generation_tokens_total", MODEL_LABEL)).isZero();
    assertThat(m.require("vllm:request_success_total", MODEL_LABEL, "finished_reason=\"length\""))
        .isZero();
    assertThat(m.require("vllm:time_to_first_token_seconds_count", MODEL_LABEL)).isZero();
    assertThat(m.require("vllm:time_to_first_token_seconds_bucket", MODEL_LABEL, "le=\"0.1\""))
        .isZero();
    assertThat(m.require("ibc_simulator_gpu_memory_bytes", MODEL_LABEL)).isEqualTo(2.0e10);
    assertThat(m.value("vllm:gpu_cache_usage_perc", MODEL_LABEL))
        .as("removed in vLLM 0.12; only with exposeDeprecatedCacheMetric")
        .isEmpty();
  }

  @Test
  void requestsBeyondTheConcurrencyLimitWaitAndTheirLatencyGrowsWithTheQueue() throws Exception {
    start();
    clock.advance(Duration.ofSeconds(2));

    // Each request: 16 ms prefill + 9 more tokens at 10 ms = 106 ms of service.
    List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      responses.add(post("/v1/chat/completions", chat(10)));
      int submitted = i + 1;
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> sim.stats().runningSeqs() + sim.stats().waitingSeqs() == submitted);
    }
    PrometheusText loaded = metrics();
    assertThat(loaded.require("vllm:num_requests_running", MODEL_LABEL)).isEqualTo(1);
    assertThat(loaded.require("vllm:num_requests_waiting", MODEL_LABEL)).isEqualTo(2);
    assertThat(loaded.require("vllm:kv_cache_usage_perc", MODEL_LABEL))
        .as("a scheduled sequence holds its prompt's KV blocks")
        .isEqualTo(16 / 100_000.0);

    clock.advance(Duration.ofMillis(50));
    assertThat(metrics().require("vllm:kv_cache_usage_perc", MODEL_LABEL))
        .as("16 prompt + 4 generated tokens of 100,000")
        .isEqualTo(20 / 100_000.0);
    clock.advance(Duration.ofMillis(56));
    assertThat(metrics().require("vllm:num_requests_waiting", MODEL_LABEL)).isEqualTo(1);
    clock.advance(Duration.ofMillis(212));

    for (CompletableFuture<HttpResponse<String>> r : responses) {
      HttpResponse<String> response = r.get();
      assertThat(response.statusCode()).isEqualTo(200);
      JsonObject usage = new JsonObject(response.body()).getJsonObject("usage");
      assertThat(usage.getInteger("prompt_tokens")).isEqualTo(16);
      assertThat(usage.getInteger("completion_tokens")).isEqualTo(10);
    }
    PrometheusText done = metrics();
    assertThat(done.require("vllm:num_requests_running", MODEL_LABEL)).isZero();
    assertThat(done.require("vllm:num_requests_waiting", MODEL_LABEL)).isZero();
    assertThat(done.require("vllm:prompt_tokens_total", MODEL_LABEL)).isEqualTo(48);
    assertThat(done.require("vllm:generation_tokens_total", MODEL_LABEL)).isEqualTo(30);
    assertThat(
            done.require("vllm:request_success_total", MODEL_LABEL, "finished_reason=\"length\""))
        .isEqualTo(3);
    // Time to first token: 16 ms, then 106 + 16 ms, then 212 + 16 ms (queueing adds up).
    assertThat(done.require("vllm:time_to_first_token_seconds_count", MODEL_LABEL)).isEqualTo(3);
    assertThat(done.require("vllm:time_to_first_token_seconds_sum", MODEL_LABEL))
        .isCloseTo(0.016 + 0.122 + 0.228, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(done.require("vllm:time_to_first_token_seconds_bucket", MODEL_LABEL, "le=\"0.02\""))
        .isEqualTo(1);
    assertThat(done.require("vllm:time_to_first_token_seconds_bucket", MODEL_LABEL, "le=\"0.25\""))
        .isEqualTo(3);
    assertThat(done.require("vllm:e2e_request_latency_seconds_sum", MODEL_LABEL))
        .isCloseTo(0.106 + 0.212 + 0.318, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(done.require("vllm:request_queue_time_seconds_sum", MODEL_LABEL))
        .isCloseTo(0.106 + 0.212, org.assertj.core.data.Offset.offset(1e-9));
  }

  @Test
  void sleepReleasesGpuMemoryAndHoldsNewRequestsUntilWakeUp() throws Exception {
    start();
    clock.advance(Duration.ofSeconds(2));

    assertThat(post("/sleep?level=1", new JsonObject()).join().statusCode()).isEqualTo(200);
    assertThat(new JsonObject(get("/is_sleeping").body()).getBoolean("is_sleeping")).isTrue();
    assertThat(metrics().require("ibc_simulator_gpu_memory_bytes", MODEL_LABEL)).isZero();
    assertThat(get("/health").statusCode()).as("vLLM stays healthy while asleep").isEqualTo(200);

    CompletableFuture<HttpResponse<String>> held = post("/v1/chat/completions", chat(1));
    await().atMost(Duration.ofSeconds(10)).until(() -> sim.stats().waitingSeqs() == 1);
    clock.advance(Duration.ofSeconds(60));
    assertThat(held).isNotDone();

    assertThat(post("/wake_up", new JsonObject()).join().statusCode()).isEqualTo(200);
    clock.advance(Duration.ofMillis(16));

    assertThat(held.get().statusCode()).isEqualTo(200);
    assertThat(new JsonObject(get("/is_sleeping").body()).getBoolean("is_sleeping")).isFalse();
    assertThat(metrics().require("ibc_simulator_gpu_memory_bytes", MODEL_LABEL)).isEqualTo(2.0e10);
  }

  @Test
  void sleepingAbortsAStreamingRequestWithFinishReasonAbort() throws Exception {
    start();
    clock.advance(Duration.ofSeconds(2));
    CompletableFuture<HttpResponse<String>> streaming =
        post(
            "/v1/chat/completions",
            chat(50).put("stream", true).put("stream_options", new JsonObject()));
    await().atMost(Duration.ofSeconds(10)).until(() -> sim.stats().runningSeqs() == 1);
    clock.advance(Duration.ofMillis(46));

    assertThat(post("/sleep", new JsonObject()).join().statusCode()).isEqualTo(200);

    String body = streaming.get().body();
    assertThat(body).contains("\"finish_reason\":\"abort\"");
    assertThat(body).contains("\"completion_tokens\":4");
    assertThat(body).endsWith("data: [DONE]\n\n");
    assertThat(
            metrics()
                .require("vllm:request_success_total", MODEL_LABEL, "finished_reason=\"abort\""))
        .isEqualTo(1);
  }

  @Test
  void clientThatDisconnectsAbortsItsRequestAndFreesItsSlot() throws Exception {
    start();
    clock.advance(Duration.ofSeconds(2));
    String body = chat(1_000).encode();
    try (Socket socket = new Socket("127.0.0.1", sim.port())) {
      socket
          .getOutputStream()
          .write(
              ("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      + "Content-Length: "
                      + body.length()
                      + "\r\n\r\n"
                      + body)
                  .getBytes(StandardCharsets.UTF_8));
      await().atMost(Duration.ofSeconds(10)).until(() -> sim.stats().runningSeqs() == 1);
    }

    await().atMost(Duration.ofSeconds(10)).until(() -> sim.stats().runningSeqs() == 0);
    assertThat(sim.stats().abortedRequestsTotal()).isEqualTo(1);
  }
}
