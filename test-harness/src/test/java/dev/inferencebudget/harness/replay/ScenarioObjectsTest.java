package dev.inferencebudget.harness.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.harness.fleet.Fleet;
import dev.inferencebudget.harness.fleet.KeepAlivePolicy;
import dev.inferencebudget.harness.fleet.SimulationSettings;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

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
