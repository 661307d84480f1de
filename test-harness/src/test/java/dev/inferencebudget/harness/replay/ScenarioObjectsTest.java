package dev.inferencebudget.harness.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferencebudget.controller.api.v1alpha1.AdaptiveKeepAlive;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.ScaleToZero;
import dev.inferencebudget.harness.fleet.Fleet;
import dev.inferencebudget.harness.fleet.KeepAlivePolicy;
import dev.inferencebudget.harness.fleet.SimulationSettings;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScenarioObjectsTest {
  private static ReplayScenario scenario(KeepAlivePolicy policy, double speed) {
    return new ReplayScenario(
        new Fleet("b", 400 * Fleet.GIB, true, Fleet.defaultModels(4)),
        policy,
        SimulationSettings.defaults(),
        speed,
        Duration.ZERO,
        Optional.empty(),
        4096,
        512);
  }

  private static ReplayScenario withFallback(
      KeepAlivePolicy policy, double speed, Duration adaptiveFallback) {
    ReplayScenario s = scenario(new KeepAlivePolicy.AlwaysOn(), speed);
    return new ReplayScenario(
        s.fleet(),
        policy,
        s.settings(),
        speed,
        s.windowStart(),
        s.windowDuration(),
        s.maxPromptTokens(),
        s.maxCompletionTokens(),
        adaptiveFallback);
  }

  @Test
  void everyTimingAndTokenRateIsDividedByTheSpeedUp() {
    ScenarioObjects objects =
        new ScenarioObjects(
            "replay", scenario(new KeepAlivePolicy.Fixed(Duration.ofMinutes(5)), 60));

    // model-2 is the 70B archetype: 80 GiB, 120 s load time, 3,000 / 30 tokens per second
    Deployment deployment = objects.deployments().get(2);
    Map<String, String> annotations = deployment.getMetadata().getAnnotations();
    assertThat(deployment.getMetadata().getName()).isEqualTo("vllm-model-2");
    assertThat(deployment.getSpec().getReplicas()).isZero();
    assertThat(annotations)
        .containsEntry("sim.inferencebudget.dev/served-model-names", "model-2")
        .containsEntry("sim.inferencebudget.dev/load-time", "PT2S")
        .containsEntry("sim.inferencebudget.dev/termination-delay", "PT0.166666667S")
        .containsEntry("sim.inferencebudget.dev/prefill-tokens-per-second", "180000.0")
        .containsEntry("sim.inferencebudget.dev/decode-tokens-per-second", "1800.0")
        .containsEntry("sim.inferencebudget.dev/max-num-seqs", "8")
        .containsEntry("sim.inferencebudget.dev/gpu-memory-bytes", Long.toString(80 * Fleet.GIB));

    BudgetedModel model = objects.budgetedModels().get(2);
    assertThat(model.getSpec().modelNames()).containsExactly("model-2");
    assertThat(model.getSpec().targetRef().name()).isEqualTo("vllm-model-2");
    assertThat(model.getSpec().replicas().min()).isZero();
    assertThat(model.getSpec().replicas().max()).isEqualTo(4);
    assertThat(model.getSpec().scaleToZero().idleTimeout()).isEqualTo("5000ms");
    assertThat(model.getSpec().coldStart().holdTimeout()).isEqualTo("5000ms");
    // the decision core's defaults, as the fleet simulator uses them: 60 s, 6 s, 2 min
    assertThat(model.getSpec().scaling().stableWindow()).isEqualTo("1000ms");
    assertThat(model.getSpec().scaling().panicWindow()).isEqualTo("100ms");
    assertThat(model.getSpec().scaling().scaleDownDelay()).isEqualTo("2000ms");
    assertThat(model.getSpec().scaling().targetInFlightPerReplica()).isEqualTo(8);
  }

  @Test
  void adaptiveDividesTheHistogramsBucketWidthRangeAndFallbackByTheSpeedUp() {
    ReplayScenario scenario =
        withFallback(new KeepAlivePolicy.Adaptive(), 60, Duration.ofMinutes(5));

    List<BudgetedModel> models = new ScenarioObjects("replay", scenario).budgetedModels();

    // fleet-sim's policy: one-minute buckets over four hours, fallback 5 minutes, in trace time
    assertThat(scenario.adaptiveKeepAlive())
        .isEqualTo(
            dev.inferencebudget.controller.decision.KeepAlivePolicy.Adaptive.defaults(
                Duration.ofMinutes(5)));
    // the sandbox's: the same 240 buckets, each one second of wall time, fallback 5 seconds
    assertThat(models)
        .hasSize(4)
        .allSatisfy(
            m ->
                assertThat(m.getSpec().scaleToZero())
                    .isEqualTo(
                        new ScaleToZero(
                            "5000ms",
                            dev.inferencebudget.controller.api.v1alpha1.KeepAlivePolicy.ADAPTIVE,
                            new AdaptiveKeepAlive("1000ms", "240000ms"))));
  }

  @ParameterizedTest(name = "speed {0}")
  @ValueSource(doubles = {1, 7, 60, 333, 6000})
  void adaptiveKeepsTheBucketCountAndTheTraceTimeScaleAtAnySpeed(double speed) {
    ReplayScenario scenario =
        withFallback(new KeepAlivePolicy.Adaptive(), speed, Duration.ofMinutes(10));
    var trace = scenario.adaptiveKeepAlive();

    AdaptiveKeepAlive wall =
        new ScenarioObjects("replay", scenario)
            .budgetedModels()
            .get(0)
            .getSpec()
            .scaleToZero()
            .adaptive();

    Duration width = wall.bucketWidthDuration();
    Duration range = wall.histogramRangeDuration();
    assertThat(range.toMillis() / width.toMillis()).isEqualTo(240);
    assertThat(range.toMillis() % width.toMillis()).isZero();
    // whole milliseconds of wall time: the bucket is off by at most half a millisecond
    assertThat(Math.abs(width.toNanos() * speed - trace.bucketWidth().toNanos()))
        .isLessThanOrEqualTo((long) (0.5e6 * speed));
    assertThat(scenario.adaptiveKeepAliveWall().bucketWidth()).isEqualTo(width);
  }

  @Test
  void adaptiveIsRefusedWhenABucketWouldBeShorterThanAMillisecond() {
    assertThatThrownBy(() -> scenario(new KeepAlivePolicy.Adaptive(), 100_000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("shorter than 1 ms");
  }

  @Test
  void alwaysOnKeepsOneReplicaOfEveryModel() {
    ScenarioObjects objects =
        new ScenarioObjects("replay", scenario(new KeepAlivePolicy.AlwaysOn(), 10));

    assertThat(objects.budgetedModels())
        .allSatisfy(m -> assertThat(m.getSpec().replicas().min()).isEqualTo(1));
  }

  @Test
  void goDurationsAreWholeMillisecondsWhenExactElseMicroseconds() {
    assertThat(ScenarioObjects.goDuration(Duration.ofSeconds(5))).isEqualTo("5000ms");
    assertThat(ScenarioObjects.goDuration(Duration.ofNanos(666_666_667))).isEqualTo("666667us");
  }
}
