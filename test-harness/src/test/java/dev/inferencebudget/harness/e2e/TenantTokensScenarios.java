package dev.inferencebudget.harness.e2e;

import static dev.inferencebudget.harness.e2e.E2e.PATIENCE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.errors.RateLimitException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import dev.inferencebudget.harness.sandbox.Sandbox;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Token accounting per tenant (API key) as clients see it: rate limits and exact settlement. Run on
 * the stand-in ({@link TenantTokensIT}) and on a real Envoy with K3s ({@link
 * TenantTokensContainersIT}).
 */
abstract class TenantTokensScenarios {

  static final String GO_DURATION = "([0-9]+h)?([0-9]+m)?([0-9]+(\\.[0-9]+)?(ms|s))?";

  static Sandbox system;
  static OpenAIClient tenantA;
  static OpenAIClient tenantB;

  static void use(Sandbox started) {
    system = started;
    tenantA = E2e.openAi(system.baseUrl(), "sk-tenant-a");
    tenantB = E2e.openAi(system.baseUrl(), "sk-tenant-b");
  }

  @AfterAll
  static void stopSystem() throws Exception {
    if (system == null) {
      return; // the subclass did not start one (e.g. Docker missing)
    }
    tenantA.close();
    tenantB.close();
    system.close();
    system = null;
  }

  @Test
  void aTenantOverItsTokenRateGetsRateLimitExceptionWithHeadersAndAnotherTenantIsUnaffected() {
    Tenant.create(system.client(), "rates", "80Gi", "Never")
        .add(
            Tenant.Model.of("chat", "rate-chat", "24Gi")
                .withAdmission("    tokensPerMinute: 150\n"));
    await().atMost(PATIENCE).until(() -> E2e.listed(tenantA, "rate-chat"));

    HttpResponseFor<ChatCompletion> admitted =
        tenantA.chat().completions().withRawResponse().create(E2e.chat("rate-chat", 8));
    assertThat(admitted.statusCode()).isEqualTo(200);
    assertThat(admitted.headers().values("x-ratelimit-limit-tokens")).containsExactly("150");
    assertThat(admitted.parse().choices()).hasSize(1);

    RateLimitException refused = null;
    for (int i = 0; i < 20 && refused == null; i++) {
      try {
        tenantA.chat().completions().create(E2e.chat("rate-chat", 8));
      } catch (RateLimitException e) {
        refused = e;
      }
    }
    if (refused == null) {
      fail("twenty requests of about 50 tokens within a 150 tokens/min limit were all admitted");
    }
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(refused.code()).hasValue("rate_limit_exceeded");
    assertThat(refused.type()).hasValue("tokens");
    assertThat(refused.headers().values("retry-after"))
        .singleElement()
        .satisfies(v -> assertThat(Long.parseLong(v)).isPositive());
    assertThat(refused.headers().values("x-ratelimit-limit-tokens")).containsExactly("150");
    assertThat(refused.headers().values("x-ratelimit-remaining-tokens"))
        .singleElement()
        .satisfies(v -> assertThat(Long.parseLong(v)).isBetween(0L, 149L));
    assertThat(refused.headers().values("x-ratelimit-reset-tokens"))
        .singleElement()
        .satisfies(v -> assertThat(v).matches(GO_DURATION));

    HttpResponseFor<ChatCompletion> other =
        tenantB.chat().completions().withRawResponse().create(E2e.chat("rate-chat", 8));
    assertThat(other.statusCode()).isEqualTo(200);
    assertThat(other.parse().choices()).hasSize(1);
    assertThat(Long.parseLong(other.headers().values("x-ratelimit-remaining-tokens").get(0)))
        .as("tenant B's own bucket, charged once")
        .isGreaterThan(50);
  }

  @Test
  void aStreamedResponseSettlesExactlyTheTokensItsUsageChunkReports() {
    Tenant.create(system.client(), "stream", "80Gi", "Never")
        .add(
            Tenant.Model.of("chat", "stream-chat", "24Gi")
                .withAdmission("    tokensPerMinute: 1000000\n"));
    await().atMost(PATIENCE).until(() -> E2e.listed(tenantA, "stream-chat"));
    PrometheusRegistry metrics = system.extProc().registry();
    Map<String, String> prompt = Map.of("model", "stream/chat", "kind", "prompt");
    Map<String, String> completion = Map.of("model", "stream/chat", "kind", "completion");
    double promptBefore = E2e.metric(metrics, "ibc_extproc_tokens_settled_total", prompt);
    double completionBefore = E2e.metric(metrics, "ibc_extproc_tokens_settled_total", completion);

    List<ChatCompletionChunk> chunks;
    try (StreamResponse<ChatCompletionChunk> stream =
        tenantA
            .chat()
            .completions()
            .createStreaming(
                E2e.chat("stream-chat", 40).toBuilder()
                    .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                    .build())) {
      chunks = stream.stream().toList();
    }

    CompletionUsage usage = chunks.get(chunks.size() - 1).usage().orElseThrow();
    assertThat(usage.completionTokens()).isEqualTo(40);
    assertThat(chunks.size()).as("a stream, not one body").isGreaterThan(2);
    await()
        .atMost(PATIENCE)
        .untilAsserted(
            () -> {
              assertThat(
                      E2e.metric(metrics, "ibc_extproc_tokens_settled_total", prompt)
                          - promptBefore)
                  .isEqualTo((double) usage.promptTokens());
              assertThat(
                      E2e.metric(metrics, "ibc_extproc_tokens_settled_total", completion)
                          - completionBefore)
                  .isEqualTo((double) usage.completionTokens());
              assertThat(system.extProc().engine().limiter().outstandingCharges())
                  .as("charges not yet settled")
                  .isZero();
            });
  }
}
