package dev.inferencebudget.harness.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.harness.vllm.VllmSimulator;
import dev.inferencebudget.harness.vllm.VllmSimulatorConfig;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The generator against one vLLM simulator directly (no proxy): what it sends and measures. */
class LoadGeneratorTest {
  private static VllmSimulator simulator;

  @BeforeAll
  static void start() throws Exception {
    simulator =
        VllmSimulator.start(
            VllmSimulatorConfig.builder()
                .servedModelNames(List.of("model-0"))
                .loadTime(Duration.ZERO)
                .prefillTokensPerSecond(1_000_000)
                .decodeTokensPerSecond(10_000)
                .build());
    simulator.loaded().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() {
    simulator.close();
  }

  @Test
  void servedRequestsStreamTheirPlannedTokensAndARefusalKeepsItsStatusAndCode() throws Exception {
    List<PlannedRequest> plan =
        List.of(
            new PlannedRequest(0, 0, "model-0", 0, 0, 500, 12, false),
            new PlannedRequest(1, 0, "model-0", 1_000, 20_000_000, 40, 3, false),
            new PlannedRequest(2, 1, "model-1", 2_000, 40_000_000, 40, 3, false));
    LoadGenerator generator =
        new LoadGenerator(
            URI.create(simulator.openAiBaseUrl()),
            4,
            Duration.ofSeconds(10),
            System::nanoTime,
            model -> RequestOutcome.Arrival.WARM);

    List<RequestOutcome> outcomes = generator.run(plan);

    assertThat(outcomes).extracting(RequestOutcome::index).containsExactly(0, 1, 2);
    assertThat(outcomes.get(0).served()).isTrue();
    assertThat(outcomes.get(0).completionTokens()).isEqualTo(12);
    assertThat(outcomes.get(0).timeToFirstTokenNanos()).isPresent();
    assertThat(outcomes.get(0).latencyNanos())
        .isGreaterThanOrEqualTo(outcomes.get(0).timeToFirstTokenNanos().get());
    assertThat(outcomes.get(1).completionTokens()).isEqualTo(3);
    // the simulator does not serve model-1: vLLM's 404 carries the status as its code
    assertThat(outcomes.get(2).served()).isFalse();
    assertThat(outcomes.get(2).reason()).isEqualTo("404 404");
    assertThat(generator.progress()).isEqualTo(new LoadGenerator.Progress(3, 2, 1));
  }

  @Test
  void thePromptIsFourBytesPerTokenAfterTheChatTemplatesSevenTokens() {
    String body =
        LoadGenerator.body(
            new PlannedRequest(0, 0, "model-0", 0, 0, 107, 5, false), "abc ".repeat(200));

    assertThat(body).contains("\"max_tokens\":5").contains("\"include_usage\":true");
    assertThat(body).contains("\"content\":\"" + "abc ".repeat(100) + "\"");
  }

  @Test
  void anErrorCodeIsReadFromTheOpenAiErrorBody() {
    assertThat(LoadGenerator.errorCode("{\"error\":{\"code\":\"model_not_found\",\"type\":\"x\"}}"))
        .isEqualTo("model_not_found");
    assertThat(LoadGenerator.errorCode("{\"error\":{\"code\":null,\"type\":\"server_error\"}}"))
        .isEqualTo("server_error");
    assertThat(LoadGenerator.errorCode("")).isEqualTo("unparsed");
    assertThat(Optional.of(LoadGenerator.errorCode("{\"detail\":\"Not Found\"}")))
        .contains("unparsed");
  }
}
