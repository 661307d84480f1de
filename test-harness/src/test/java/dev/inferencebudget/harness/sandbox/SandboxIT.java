package dev.inferencebudget.harness.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The sandbox as the end-to-end tests use it: every component real except the cluster and Envoy
 * (the stand-in, fed over ADS), driven by the official OpenAI Java SDK through the data plane.
 */
class SandboxIT {
  private static Sandbox sandbox;
  private static OpenAIClient openAi;

  @BeforeAll
  static void start() {
    sandbox = Sandbox.start(SandboxConfig.forTests());
    openAi =
        OpenAIOkHttpClient.builder()
            .baseUrl(sandbox.baseUrl())
            .apiKey("sk-sandbox-test")
            .maxRetries(0)
            .timeout(Duration.ofSeconds(60))
            .build();
  }

  @AfterAll
  static void stop() {
    if (openAi != null) {
      openAi.close();
    }
    if (sandbox != null) {
      sandbox.close();
    }
  }

  @Test
  void aChatCompletionToAModelAtZeroIsHeldThroughTheColdStartAndAnswered200() {
    SandboxState before = sandbox.state();
    SandboxState.Model cold = before.modelNamed(Sandbox.EXAMPLE_COLD_MODEL).orElseThrow();
    assertThat(cold.desiredReplicas()).as("every model starts at zero").isZero();
    assertThat(cold.readyReplicas()).isZero();
    assertThat(before.budget(cold.budget()))
        .hasValueSatisfying(b -> assertThat(b.gpuMemoryBytes()).isEqualTo(160L << 30));

    long startNanos = System.nanoTime();
    HttpResponseFor<ChatCompletion> response =
        openAi
            .chat()
            .completions()
            .withRawResponse()
            .create(
                ChatCompletionCreateParams.builder()
                    .model(Sandbox.EXAMPLE_COLD_MODEL)
                    .addUserMessage("Say hello.")
                    .maxCompletionTokens(4)
                    .build());
    Duration elapsed = Duration.ofNanos(System.nanoTime() - startNanos);

    assertThat(response.statusCode()).isEqualTo(200);
    ChatCompletion completion = response.parse();
    assertThat(completion.model()).isEqualTo(Sandbox.EXAMPLE_COLD_MODEL);
    assertThat(completion.usage())
        .hasValueSatisfying(u -> assertThat(u.completionTokens()).isEqualTo(4));
    assertThat(elapsed)
        .as("held at least for the model's load time")
        .isGreaterThanOrEqualTo(sandbox.config().modelLoadTime());

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              SandboxState after = sandbox.state();
              SandboxState.Model served = after.model(cold.key()).orElseThrow();
              assertThat(served.readyReplicas()).isEqualTo(1);
              assertThat(served.state()).isEqualTo("Ready");
              assertThat(after.heldRequests()).isZero();
              // other tests of this class may have started other models of the budget
              SandboxState.Budget budget = after.budget(cold.budget()).orElseThrow();
              assertThat(budget.reservedGpuMemoryBytes())
                  .isGreaterThanOrEqualTo(80L << 30)
                  .isEqualTo(budget.occupiedGpuMemoryBytes());
            });
  }

  @Test
  void afterTheControllerAndExtProcRestartOnTheirPortsAColdModelIsStillServed() throws Exception {
    int xds = sandbox.xdsPort();
    int link = sandbox.linkApiPort();
    int extProc = sandbox.extProcPort();
    var firstController = sandbox.controller();

    sandbox.restartController();
    sandbox.restartExtProc();

    assertThat(sandbox.controller()).isNotSameAs(firstController);
    assertThat(List.of(sandbox.xdsPort(), sandbox.linkApiPort(), sandbox.extProcPort()))
        .containsExactly(xds, link, extProc);
    assertThat(sandbox.adsClient().isStreamClosed()).isFalse();
    // the embedding model's alias; the simulator answers chat completions for any served name
    ChatCompletion completion =
        openAi
            .chat()
            .completions()
            .create(
                ChatCompletionCreateParams.builder()
                    .model("text-embedding-bge-m3")
                    .addUserMessage("Still there?")
                    .maxCompletionTokens(2)
                    .build());
    assertThat(completion.model()).isEqualTo("text-embedding-bge-m3");
  }
}
