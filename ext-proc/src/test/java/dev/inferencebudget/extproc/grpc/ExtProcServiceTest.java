package dev.inferencebudget.extproc.grpc;

import static dev.inferencebudget.extproc.testing.EnvoyDriver.setHeader;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.inferencebudget.extproc.api.ControllerLink.Activation;
import dev.inferencebudget.extproc.api.ExtProcConfig;
import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.api.ModelState.BudgetRefusal;
import dev.inferencebudget.extproc.api.ModelState.Endpoint;
import dev.inferencebudget.extproc.openai.OpenAiJson;
import dev.inferencebudget.extproc.testing.EnvoyDriver.Exchange;
import dev.inferencebudget.extproc.testing.Models;
import dev.inferencebudget.extproc.testing.TestServer;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ExtProcServiceTest {
  static final String CHAT =
      "{\"model\":\"llama\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello there\"}],"
          + "\"max_tokens\":16}";
  static final Map<String, String> TENANT_A = Map.of("authorization", "Bearer key-a");

  TestServer server;

  @AfterEach
  void close() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void nonOpenAiPathPassesThroughUntouched() throws Exception {
    server = new TestServer(List.of(Models.ready("ns/llama", "llama")));
    Exchange x = server.envoy.open();
    x.requestHeaders("GET", "/healthz", Map.of(), true);
    ProcessingResponse headers = x.next();
    assertThat(headers.hasRequestHeaders()).isTrue();
    assertThat(headers.getRequestHeaders().hasResponse()).isFalse();
    x.responseHeaders(200, "text/plain", false);
    assertThat(x.next().getResponseHeaders().hasResponse()).isFalse();
    x.responseBody("ok", true);
    assertThat(x.next().hasResponseBody()).isTrue();
  }

  @Test
  void clientRoutingAndEndpointHeadersAreRemovedOnEveryPath() throws Exception {
    server = new TestServer(List.of(Models.ready("ns/llama", "llama")));
    Map<String, String> spoofed =
        Map.of("x-ibc-model", "ns/other", "x-gateway-destination-endpoint", "6.6.6.6:80");
    for (String path : List.of("/v1/chat/completions", "/metrics")) {
      Exchange x = server.envoy.open();
      x.post(path, spoofed);
      ProcessingResponse headers = x.next();
      assertThat(
              headers.getRequestHeaders().getResponse().getHeaderMutation().getRemoveHeadersList())
          .as(path)
          .containsExactlyInAnyOrder("x-ibc-model", "x-gateway-destination-endpoint");
    }
  }

  @Test
  void admittedChatRequestIsRoutedByModelKeyWithRouteCacheCleared() throws Exception {
    server = new TestServer(List.of(Models.ready("ns/llama", "llama")));
    ProcessingResponse body = server.envoy.open().admit("/v1/chat/completions", TENANT_A, CHAT);
    assertThat(body.hasRequestBody()).isTrue();
    var common = body.getRequestBody().getResponse();
    assertThat(common.getClearRouteCache()).isTrue();
    assertThat(setHeader(common.getHeaderMutation(), "x-ibc-model")).isEqualTo("ns/llama");
    assertThat(common.getHeaderMutation().getSetHeaders(0).getHeader().getValue()).isEmpty();
  }

  @Test
  void endpointPickerModeNamesTheLeastLoadedReadyEndpoint() throws Exception {
    ModelState model =
        ModelState.ready(
            "ns/llama",
            List.of("llama"),
            List.of(
                new Endpoint("10.0.0.1:8000", true, "a"),
                new Endpoint("10.0.0.2:8000", true, "b"),
                new Endpoint("10.0.0.3:8000", false, "c")));
    server =
        new TestServer(
            ExtProcConfig.defaults().withRoutingMode(ExtProcConfig.RoutingMode.ENDPOINT_PICKER),
            List.of(model));
    ProcessingResponse first = server.envoy.open().admit("/v1/chat/completions", TENANT_A, CHAT);
    ProcessingResponse second = server.envoy.open().admit("/v1/chat/completions", TENANT_A, CHAT);
    String a =
        setHeader(
            first.getRequestBody().getResponse().getHeaderMutation(),
            "x-gateway-destination-endpoint");
    String b =
        setHeader(
            second.getRequestBody().getResponse().getHeaderMutation(),
            "x-gateway-destination-endpoint");
    assertThat(List.of(a, b)).containsExactlyInAnyOrder("10.0.0.1:8000", "10.0.0.2:8000");
    assertThat(
            first
                .getDynamicMetadata()
                .getFieldsOrThrow("envoy.lb")
                .getStructValue()
                .getFieldsOrThrow("x-gateway-destination-endpoint")
                .getStringValue())
        .as("the picked endpoint first, then the other ready one as a fallback; never c")
        .isEqualTo(a + "," + (a.equals("10.0.0.1:8000") ? "10.0.0.2:8000" : "10.0.0.1:8000"));
  }

  @Test
  void modelsEndpointIsAnsweredFromTheModelTable() throws Exception {
    server =
        new TestServer(List.of(Models.ready("ns/llama", "llama"), Models.cold("ns/qwen", "qwen3")));
    Exchange x = server.envoy.open();
    x.requestHeaders("GET", "/v1/models", Map.of(), true);
    ImmediateResponse models = x.next().getImmediateResponse();
    assertThat(models.getStatus().getCodeValue()).isEqualTo(200);
    assertThat(models.getBody().toStringUtf8()).contains("\"llama\"", "\"qwen3\"");
  }

  @Test
  void unknownModelIs404ModelNotFound() throws Exception {
    server = new TestServer(List.of(Models.ready("ns/llama", "llama")));
    ProcessingResponse answer =
        server.envoy.open().admit("/v1/chat/completions", TENANT_A, CHAT.replace("llama", "gpt-9"));
    ImmediateResponse error = answer.getImmediateResponse();
    assertThat(error.getStatus().getCodeValue()).isEqualTo(404);
    assertThat(errorField(error, "code")).isEqualTo("model_not_found");
    assertThat(setHeader(error.getHeaders(), "content-type")).isEqualTo("application/json");
  }

  @Test
  void overRateIs429WithRetryAfterAndRateLimitHeaders() throws Exception {
    ModelState model = Models.ready("ns/llama", "llama").withAdmission(Models.rates(0, 2));
    server = new TestServer(List.of(model));
    for (int i = 0; i < 2; i++) {
      assertThat(server.envoy.open().admit("/v1/chat/completions", TENANT_A, CHAT).hasRequestBody())
          .isTrue();
    }
    ImmediateResponse refused =
        server.envoy.open().admit("/v1/chat/completions", TENANT_A, CHAT).getImmediateResponse();
    assertThat(refused.getStatus().getCodeValue()).isEqualTo(429);
    assertThat(errorField(refused, "code")).isEqualTo("rate_limit_exceeded");
    assertThat(setHeader(refused.getHeaders(), "retry-after")).isEqualTo("30");
    assertThat(setHeader(refused.getHeaders(), "x-ratelimit-limit-requests")).isEqualTo("2");
    assertThat(setHeader(refused.getHeaders(), "x-ratelimit-remaining-requests")).isEqualTo("0");
    assertThat(setHeader(refused.getHeaders(), "x-ratelimit-reset-requests")).isEqualTo("1m0s");
    // Another tenant has its own bucket.
    assertThat(
            server
                .envoy
                .open()
                .admit("/v1/chat/completions", Map.of("authorization", "Bearer key-b"), CHAT)
                .hasRequestBody())
        .isTrue();
  }

  @Test
  void remainingTokensHeaderDecreasesAndUsageRefundsTheCharge() throws Exception {
    ModelState model = Models.ready("ns/llama", "llama").withAdmission(Models.rates(10_000, 0));
    server = new TestServer(List.of(model));
    long previous = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      Exchange x = server.envoy.open();
      x.admit("/v1/chat/completions", TENANT_A, CHAT);
      x.responseHeaders(200, "text/event-stream", false);
      long remaining =
          Long.parseLong(
              setHeader(
                  x.next().getResponseHeaders().getResponse().getHeaderMutation(),
                  "x-ratelimit-remaining-tokens"));
      assertThat(remaining).isLessThan(previous);
      previous = remaining;
      x.responseBody("data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\nda", false);
      x.next();
      x.responseBody(
          "ta: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n"
              + "data: [DONE]\n\n",
          true);
      x.next();
      x.halfCloseAndCancel();
    }
    assertThat(server.extProc.engine().limiter().outstandingTokens()).isZero();
    // 3 requests used 7 tokens each: the rest was refunded.
    Exchange probe = server.envoy.open();
    probe.admit("/v1/chat/completions", TENANT_A, CHAT);
    probe.responseHeaders(200, "application/json", false);
    long remaining =
        Long.parseLong(
            setHeader(
                probe.next().getResponseHeaders().getResponse().getHeaderMutation(),
                "x-ratelimit-remaining-tokens"));
    long charged = server.extProc.engine().limiter().outstandingTokens();
    assertThat(remaining).isEqualTo(10_000 - 21 - charged);
  }

  @Test
  void coldModelIsHeldWithOverrideThenContinuedWhenRoutable() throws Exception {
    server = new TestServer(List.of(Models.cold("ns/llama", "llama")));
    Exchange x = server.envoy.open();
    ProcessingResponse override = x.admit("/v1/chat/completions", TENANT_A, CHAT);
    assertThat(override.hasOverrideMessageTimeout()).isTrue();
    assertThat(override.getOverrideMessageTimeout().getSeconds()).isEqualTo(900);
    assertThat(override.getResponseCase())
        .isEqualTo(ProcessingResponse.ResponseCase.RESPONSE_NOT_SET);
    assertThat(server.controller.activations()).containsExactly("ns/llama");
    assertThat(x.poll(50)).isNull();
    assertThat(server.extProc.engine().holds().held("ns/llama")).isEqualTo(1);

    server.models.put(Models.ready("ns/llama", "llama"));
    ProcessingResponse released = x.next();
    assertThat(
            setHeader(released.getRequestBody().getResponse().getHeaderMutation(), "x-ibc-model"))
        .isEqualTo("ns/llama");
    assertThat(server.extProc.engine().holds().held("ns/llama")).isZero();
  }

  @Test
  void holdTimeoutIs503WithRetryAfter() throws Exception {
    server = new TestServer(List.of(Models.cold("ns/llama", "llama")));
    Exchange x = server.envoy.open();
    assertThat(x.admit("/v1/chat/completions", TENANT_A, CHAT).hasOverrideMessageTimeout())
        .isTrue();
    server.time.advance(Duration.ofSeconds(60));
    ImmediateResponse error = x.next().getImmediateResponse();
    assertThat(error.getStatus().getCodeValue()).isEqualTo(503);
    assertThat(errorField(error, "code")).isEqualTo("cold_start_timeout");
    assertThat(setHeader(error.getHeaders(), "retry-after")).isNotNull();
  }

  @Test
  void budgetRefusalIs503NamingTheBudget() throws Exception {
    server = new TestServer(List.of(Models.cold("ns/llama", "llama")));
    server.controller.answerWith(
        key ->
            CompletableFuture.completedFuture(
                Activation.refused(new BudgetRefusal("ns/team-budget", 80L << 30, 10L << 30, ""))));
    ImmediateResponse error =
        server.envoy.open().admit("/v1/chat/completions", TENANT_A, CHAT).getImmediateResponse();
    assertThat(error.getStatus().getCodeValue()).isEqualTo(503);
    assertThat(errorField(error, "message")).contains("ns/team-budget");
  }

  @Test
  void tooManyHeldIs429() throws Exception {
    ModelState cold =
        Models.cold("ns/llama", "llama")
            .withColdStart(new ModelState.ColdStartPolicy(Duration.ofSeconds(60), 1));
    server = new TestServer(List.of(cold));
    assertThat(
            server
                .envoy
                .open()
                .admit("/v1/chat/completions", TENANT_A, CHAT)
                .hasOverrideMessageTimeout())
        .isTrue();
    ImmediateResponse error =
        server.envoy.open().admit("/v1/chat/completions", TENANT_A, CHAT).getImmediateResponse();
    assertThat(error.getStatus().getCodeValue()).isEqualTo(429);
  }

  @Test
  void clientDisconnectWhileHeldReleasesAtOnceAndSendsNothingLater() throws Exception {
    ModelState cold = Models.cold("ns/llama", "llama").withAdmission(Models.rates(1000, 10));
    server = new TestServer(List.of(cold));
    Exchange x = server.envoy.open();
    assertThat(x.admit("/v1/chat/completions", TENANT_A, CHAT).hasOverrideMessageTimeout())
        .isTrue();
    assertThat(server.extProc.engine().limiter().outstandingCharges()).isEqualTo(1);
    x.halfCloseAndCancel();
    org.awaitility.Awaitility.await()
        .until(() -> server.extProc.engine().holds().held("ns/llama") == 0);
    assertThat(server.extProc.engine().limiter().outstandingCharges()).isZero();
    server.models.put(Models.ready("ns/llama", "llama"));
    assertThat(x.poll(50)).isNull();
  }

  @Test
  void fullDuplexRequestHeldForAColdModelSendsNothingAndIsReleasedOnDisconnect() throws Exception {
    ModelState cold = Models.cold("ns/llama", "llama").withAdmission(Models.rates(1000, 10));
    server = new TestServer(List.of(cold));
    Exchange x = server.envoy.open();
    x.postFullDuplex("/v1/chat/completions", TENANT_A);
    byte[] body = CHAT.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    x.requestBodyChunk(java.util.Arrays.copyOf(body, 10), false);
    x.requestBodyChunk(java.util.Arrays.copyOfRange(body, 10, body.length), true);
    org.awaitility.Awaitility.await()
        .until(() -> server.extProc.engine().holds().held("ns/llama") == 1);
    // No override (FDS arms no message timer) and no headers answer while held.
    assertThat(x.poll(50)).isNull();
    assertThat(server.extProc.engine().limiter().outstandingCharges()).isEqualTo(1);

    x.halfCloseAndCancel();
    org.awaitility.Awaitility.await()
        .until(() -> server.extProc.engine().holds().held("ns/llama") == 0);
    assertThat(server.extProc.engine().limiter().outstandingCharges()).isZero();
    server.models.put(Models.ready("ns/llama", "llama"));
    assertThat(x.poll(50)).isNull();
  }

  @Test
  void aSecondBodyChunkWithoutProtocolConfigRevealsStreamedModeAndReleasesTheHold()
      throws Exception {
    ModelState cold = Models.cold("ns/llama", "llama").withAdmission(Models.rates(1000, 10));
    server = new TestServer(List.of(cold));
    Exchange x = server.envoy.open();
    x.post("/v1/chat/completions", TENANT_A);
    x.next();
    x.requestBodyChunk(CHAT.getBytes(java.nio.charset.StandardCharsets.UTF_8), false);
    assertThat(x.next().hasOverrideMessageTimeout()).isTrue();
    assertThat(server.extProc.engine().holds().held("ns/llama")).isEqualTo(1);

    x.requestBodyChunk(new byte[] {' '}, true);
    ImmediateResponse error = x.next().getImmediateResponse();
    assertThat(error.getStatus().getCodeValue()).isEqualTo(500);
    assertThat(errorField(error, "code")).isEqualTo("unsupported_body_mode");
    assertThat(server.extProc.engine().holds().held("ns/llama")).isZero();
    assertThat(server.extProc.engine().limiter().outstandingCharges()).isZero();
  }

  @Test
  void saturatedModelQueuesThenServesWhenASlotFrees() throws Exception {
    server = new TestServer(List.of(Models.limited("ns/llama", "llama", 1, 1)));
    Exchange first = server.envoy.open();
    assertThat(first.admit("/v1/chat/completions", TENANT_A, CHAT).hasRequestBody()).isTrue();
    Exchange second = server.envoy.open();
    assertThat(second.admit("/v1/chat/completions", TENANT_A, CHAT).hasOverrideMessageTimeout())
        .isTrue();
    assertThat(server.extProc.engine().gate().queued("ns/llama")).isEqualTo(1);
    first.responseHeaders(200, "application/json", false);
    first.next();
    first.responseBody("{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}", true);
    first.next();
    assertThat(second.next().hasRequestBody()).isTrue();
  }

  @Test
  void queueWaitExpiryIs503() throws Exception {
    ModelState model =
        Models.limited("ns/llama", "llama", 1, 1)
            .withAdmission(
                Models.policy(
                    0, 0, ModelState.MaxTokensPolicy.CLAMP, 0, 0, 5, Duration.ofSeconds(2)));
    server = new TestServer(List.of(model));
    server.envoy.open().admit("/v1/chat/completions", TENANT_A, CHAT);
    Exchange waiting = server.envoy.open();
    assertThat(waiting.admit("/v1/chat/completions", TENANT_A, CHAT).hasOverrideMessageTimeout())
        .isTrue();
    server.time.advance(Duration.ofSeconds(2));
    ImmediateResponse error = waiting.next().getImmediateResponse();
    assertThat(error.getStatus().getCodeValue()).isEqualTo(503);
    assertThat(errorField(error, "code")).isEqualTo("queue_timeout");
  }

  @Test
  void queueFullIs429() throws Exception {
    ModelState model =
        Models.limited("ns/llama", "llama", 1, 1)
            .withAdmission(
                Models.policy(
                    0, 0, ModelState.MaxTokensPolicy.CLAMP, 0, 0, 0, Duration.ofSeconds(2)));
    server = new TestServer(List.of(model));
    server.envoy.open().admit("/v1/chat/completions", TENANT_A, CHAT);
    ImmediateResponse error =
        server.envoy.open().admit("/v1/chat/completions", TENANT_A, CHAT).getImmediateResponse();
    assertThat(error.getStatus().getCodeValue()).isEqualTo(429);
    assertThat(errorField(error, "code")).isEqualTo("queue_full");
  }

  @Test
  void maxTokensAboveTheLimitIsClampedInTheForwardedBody() throws Exception {
    ModelState model =
        Models.ready("ns/llama", "llama")
            .withAdmission(
                Models.policy(
                    0, 8, ModelState.MaxTokensPolicy.CLAMP, 0, 0, 5, Duration.ofSeconds(2)));
    server = new TestServer(List.of(model));
    var common =
        server
            .envoy
            .open()
            .admit("/v1/chat/completions", TENANT_A, CHAT)
            .getRequestBody()
            .getResponse();
    String body = common.getBodyMutation().getBody().toStringUtf8();
    assertThat(body).contains("\"max_tokens\":8}").doesNotContain("16");
    assertThat(setHeader(common.getHeaderMutation(), "content-length"))
        .isEqualTo(Integer.toString(body.length()));
  }

  @Test
  void promptOverTheLimitIs400ContextLengthExceeded() throws Exception {
    ModelState model =
        Models.ready("ns/llama", "llama")
            .withAdmission(
                Models.policy(
                    10, 0, ModelState.MaxTokensPolicy.CLAMP, 0, 0, 5, Duration.ofSeconds(2)));
    server = new TestServer(List.of(model));
    String longPrompt = CHAT.replace("Hello there", "word ".repeat(50));
    ImmediateResponse error =
        server
            .envoy
            .open()
            .admit("/v1/chat/completions", TENANT_A, longPrompt)
            .getImmediateResponse();
    assertThat(error.getStatus().getCodeValue()).isEqualTo(400);
    assertThat(errorField(error, "code")).isEqualTo("context_length_exceeded");
    // A short one passes on the byte bound alone.
    ModelState roomy =
        model.withAdmission(
            Models.policy(
                100, 0, ModelState.MaxTokensPolicy.CLAMP, 0, 0, 5, Duration.ofSeconds(2)));
    server.models.put(roomy);
    assertThat(server.envoy.open().admit("/v1/chat/completions", TENANT_A, CHAT).hasRequestBody())
        .isTrue();
  }

  @Test
  void imagesCostTheModelsPerImageTokensAgainstThePromptLimit() throws Exception {
    ModelState.AdmissionPolicy base =
        Models.policy(1500, 0, ModelState.MaxTokensPolicy.CLAMP, 0, 0, 5, Duration.ofSeconds(2));
    ModelState model =
        Models.ready("ns/llama", "llama")
            .withAdmission(withMedia(base, 1000, 0)); // two images: 2,000 tokens > 1,500
    server = new TestServer(List.of(model));
    String twoImages =
        "{\"model\":\"llama\",\"messages\":[{\"role\":\"user\",\"content\":["
            + "{\"type\":\"text\",\"text\":\"compare\"},"
            + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"http://x/a.png\"}},"
            + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"http://x/b.png\"}}]}],"
            + "\"max_tokens\":16}";
    ImmediateResponse error =
        server
            .envoy
            .open()
            .admit("/v1/chat/completions", TENANT_A, twoImages)
            .getImmediateResponse();
    assertThat(error.getStatus().getCodeValue()).isEqualTo(400);
    assertThat(errorField(error, "code")).isEqualTo("context_length_exceeded");
    // At 500 tokens an image, both fit with the text.
    server.models.put(model.withAdmission(withMedia(base, 500, 0)));
    assertThat(
            server.envoy.open().admit("/v1/chat/completions", TENANT_A, twoImages).hasRequestBody())
        .isTrue();
  }

  @Test
  void toolDefinitionsCountTowardThePromptLimit() throws Exception {
    ModelState model =
        Models.ready("ns/llama", "llama")
            .withAdmission(
                Models.policy(
                    60, 0, ModelState.MaxTokensPolicy.CLAMP, 0, 0, 5, Duration.ofSeconds(2)));
    server = new TestServer(List.of(model));
    String tools =
        CHAT.replace(
            "\"max_tokens\"",
            "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"lookup\","
                + "\"description\":\""
                + "Looks up an order by its number and returns status, items and dates. ".repeat(3)
                + "\"}}],\"max_tokens\"");
    assertThat(server.envoy.open().admit("/v1/chat/completions", TENANT_A, CHAT).hasRequestBody())
        .isTrue();
    ImmediateResponse error =
        server.envoy.open().admit("/v1/chat/completions", TENANT_A, tools).getImmediateResponse();
    assertThat(errorField(error, "code")).isEqualTo("context_length_exceeded");
  }

  static ModelState.AdmissionPolicy withMedia(
      ModelState.AdmissionPolicy p, long imageTokens, long audioTokens) {
    return new ModelState.AdmissionPolicy(
        p.maxPromptTokens(),
        p.maxCompletionTokens(),
        p.maxTokensPolicy(),
        p.tokensPerMinute(),
        p.requestsPerMinute(),
        p.tenantHeader(),
        p.queueLength(),
        p.queueWait(),
        p.tokenizer(),
        imageTokens,
        audioTokens);
  }

  @Test
  void budgetRefusalInTheTableIsAFast503() throws Exception {
    ModelState cold =
        Models.cold("ns/llama", "llama")
            .withBudgetRefusal(Optional.of(new BudgetRefusal("ns/gpu", 1, 0, "full")));
    server = new TestServer(List.of(cold));
    ImmediateResponse error =
        server.envoy.open().admit("/v1/chat/completions", TENANT_A, CHAT).getImmediateResponse();
    assertThat(error.getStatus().getCodeValue()).isEqualTo(503);
    assertThat(errorField(error, "code")).isEqualTo("budget_exceeded");
    assertThat(errorField(error, "message")).contains("ns/gpu");
  }

  static String errorField(ImmediateResponse response, String field) throws Exception {
    try (JsonParser json = OpenAiJson.FACTORY.createParser(response.getBody().toByteArray())) {
      JsonToken t;
      while ((t = json.nextToken()) != null) {
        if (t == JsonToken.FIELD_NAME && json.currentName().equals(field)) {
          json.nextToken();
          return json.getValueAsString();
        }
      }
    }
    return null;
  }
}
