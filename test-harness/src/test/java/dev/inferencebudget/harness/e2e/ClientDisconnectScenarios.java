package dev.inferencebudget.harness.e2e;

import static dev.inferencebudget.harness.e2e.E2e.PATIENCE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.errors.OpenAIIoException;
import com.openai.models.chat.completions.ChatCompletion;
import dev.inferencebudget.harness.sandbox.Sandbox;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A client that gives up while its request is held leaves nothing behind. Run on the stand-in
 * ({@link ClientDisconnectIT}) and on a real Envoy with K3s ({@link ClientDisconnectContainersIT}).
 */
abstract class ClientDisconnectScenarios {

  static Sandbox system;

  static void use(Sandbox started) {
    system = started;
  }

  @AfterAll
  static void stopSystem() throws Exception {
    if (system == null) {
      return; // the subclass did not start one (e.g. Docker missing)
    }
    system.close();
    system = null;
  }

  @Test
  void aClientThatDisconnectsWhileHeldLeavesNoHoldSlotOrTokenChargeBehind() {
    String key = "disconnect/chat";
    Tenant.create(system.client(), "disconnect", "80Gi", "Never")
        .add(
            Tenant.Model.of("chat", "dc-chat", "24Gi")
                .withLoadTime(Duration.ofSeconds(4))
                .withAdmission("    tokensPerMinute: 60\n"));
    OpenAIClient patient = E2e.openAi(system.baseUrl(), "sk-disconnect");
    OpenAIClient impatient =
        OpenAIOkHttpClient.builder()
            .baseUrl(system.baseUrl())
            .apiKey("sk-disconnect")
            .maxRetries(0)
            .timeout(Duration.ofMillis(800))
            .build();
    try {
      await().atMost(PATIENCE).until(() -> E2e.listed(patient, "dc-chat"));
      PrometheusRegistry metrics = system.extProc().registry();
      Map<String, String> cancelled =
          Map.of("model", key, "outcome", "cancelled", "reason", "client_closed");
      double cancelledBefore = E2e.metric(metrics, "ibc_extproc_requests_total", cancelled);

      assertThatThrownBy(() -> impatient.chat().completions().create(E2e.chat("dc-chat", 8)))
          .as("the client's own timeout while the model loads")
          .isInstanceOf(OpenAIIoException.class);

      await()
          .atMost(PATIENCE)
          .untilAsserted(
              () -> {
                assertThat(E2e.metric(metrics, "ibc_extproc_requests_total", cancelled))
                    .isEqualTo(cancelledBefore + 1);
                assertThat(E2e.metric(metrics, "ibc_extproc_held_requests", Map.of("model", key)))
                    .isZero();
                assertThat(system.extProc().engine().holds().held(key)).isZero();
                assertThat(system.extProc().engine().gate().inFlight(key)).isZero();
                assertThat(system.extProc().engine().limiter().outstandingCharges()).isZero();
                assertThat(system.extProc().engine().limiter().outstandingTokens()).isZero();
              });

      // The abandoned request's charge was refunded: its bucket (60 tokens a minute, one token a
      // second back) has room for the same request again at once. Had the charge stood, this
      // would be a 429 for the better part of a minute.
      HttpResponseFor<ChatCompletion> next =
          patient.chat().completions().withRawResponse().create(E2e.chat("dc-chat", 8));
      assertThat(next.statusCode()).isEqualTo(200);
      long remaining = Long.parseLong(next.headers().values("x-ratelimit-remaining-tokens").get(0));
      assertThat(60 - remaining).as("this request's own charge").isGreaterThan(30);
    } finally {
      patient.close();
      impatient.close();
    }
  }
}
