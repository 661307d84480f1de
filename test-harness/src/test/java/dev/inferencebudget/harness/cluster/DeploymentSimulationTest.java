package dev.inferencebudget.harness.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeploymentSimulationTest {
  private static Deployment deployment(Map<String, String> annotations) {
    return new DeploymentBuilder()
        .withNewMetadata()
        .withName("llama")
        .withNamespace("models")
        .withAnnotations(annotations)
        .endMetadata()
        .build();
  }

  @Test
  void withoutAnnotationsTheDeploymentNameIsTheModelAndTheServiceAndDefaultsApply() {
    DeploymentSimulation s =
        DeploymentSimulation.of(deployment(Map.of()), SimulatedKubeletConfig.defaults());

    assertThat(s.simulator().servedModelNames()).containsExactly("llama");
    assertThat(s.serviceName()).isEqualTo("llama");
    assertThat(s.simulator().loadTime()).isEqualTo(Duration.ofSeconds(5));
    assertThat(s.terminationDelay()).isEqualTo(Duration.ofSeconds(2));
    assertThat(s.problems()).isEmpty();
  }

  @Test
  void annotationsOverrideEverySetting() {
    DeploymentSimulation s =
        DeploymentSimulation.of(
            deployment(
                Map.of(
                    DeploymentSimulation.SERVED_MODEL_NAMES, "llama-8b, llama-alias",
                    DeploymentSimulation.LOAD_TIME, "200ms",
                    DeploymentSimulation.PREFILL_TOKENS_PER_SECOND, "8000",
                    DeploymentSimulation.DECODE_TOKENS_PER_SECOND, "40.5",
                    DeploymentSimulation.MAX_NUM_SEQS, "4",
                    DeploymentSimulation.MAX_MODEL_LEN, "4096",
                    DeploymentSimulation.GPU_MEMORY_BYTES, "17179869184",
                    DeploymentSimulation.TERMINATION_DELAY, "PT1.5S",
                    DeploymentSimulation.SERVICE_NAME, "llama-svc")),
            SimulatedKubeletConfig.defaults());

    assertThat(s.simulator().servedModelNames()).containsExactly("llama-8b", "llama-alias");
    assertThat(s.simulator().loadTime()).isEqualTo(Duration.ofMillis(200));
    assertThat(s.simulator().prefillTokensPerSecond()).isEqualTo(8000);
    assertThat(s.simulator().decodeTokensPerSecond()).isEqualTo(40.5);
    assertThat(s.simulator().maxNumSeqs()).isEqualTo(4);
    assertThat(s.simulator().maxModelLen()).isEqualTo(4096);
    assertThat(s.simulator().gpuMemoryBytes()).isEqualTo(17_179_869_184L);
    assertThat(s.terminationDelay()).isEqualTo(Duration.ofMillis(1500));
    assertThat(s.serviceName()).isEqualTo("llama-svc");
    assertThat(s.problems()).isEmpty();
  }

  @Test
  void unreadableAnnotationsAreReportedAndTheirDefaultsUsed() {
    DeploymentSimulation s =
        DeploymentSimulation.of(
            deployment(
                Map.of(
                    DeploymentSimulation.LOAD_TIME, "soon",
                    DeploymentSimulation.MAX_NUM_SEQS, "0")),
            SimulatedKubeletConfig.defaults());

    assertThat(s.simulator().loadTime()).isEqualTo(Duration.ofSeconds(5));
    assertThat(s.simulator().maxNumSeqs()).isEqualTo(16);
    assertThat(s.problems()).hasSize(2);
    assertThat(String.join("\n", s.problems())).contains("load-time").contains("maxNumSeqs = 0");
  }

  @Test
  void durationsAcceptKubernetesStyleAndIso8601() {
    assertThat(
            List.of("200ms", "30s", "2m", "1h", "PT0.2S").stream()
                .map(DeploymentSimulation::parseDuration)
                .toList())
        .containsExactly(
            Duration.ofMillis(200),
            Duration.ofSeconds(30),
            Duration.ofMinutes(2),
            Duration.ofHours(1),
            Duration.ofMillis(200));
  }
}
