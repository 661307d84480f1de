package dev.inferencebudget.harness.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.harness.cluster.DeploymentSimulation;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The sandbox's pure pieces: manifest adaptation, the Envoy bootstrap rewrite, state lines. */
class SandboxWiringTest {
  private static KubernetesClient client;

  @BeforeAll
  static void client() {
    // only for parsing YAML: never connects
    client = new KubernetesClientBuilder().build();
  }

  @AfterAll
  static void close() {
    client.close();
  }

  private static List<HasMetadata> examples(SandboxConfig config) {
    return Manifests.prepare(
        Manifests.read(client, List.of(SandboxConfig.repositoryPath("examples"))),
        config,
        client.getKubernetesSerialization());
  }

  @Test
  void exampleDeploymentsServeTheirModelsNamesStartAtZeroAndLoadInTheConfiguredTime() {
    List<HasMetadata> objects =
        examples(SandboxConfig.forTests().withModelLoadTime(Duration.ofMillis(750)));

    Deployment qwen =
        objects.stream()
            .filter(
                o ->
                    o instanceof Deployment && o.getMetadata().getName().equals("vllm-qwen2-5-32b"))
            .map(Deployment.class::cast)
            .findFirst()
            .orElseThrow();
    assertThat(qwen.getSpec().getReplicas()).isZero();
    assertThat(qwen.getMetadata().getAnnotations())
        .containsEntry(
            DeploymentSimulation.SERVED_MODEL_NAMES, "Qwen/Qwen2.5-32B-Instruct,qwen2.5-32b")
        .containsEntry(DeploymentSimulation.LOAD_TIME, "750ms")
        .containsEntry(DeploymentSimulation.GPU_MEMORY_BYTES, Long.toString(80L << 30));
    assertThat(objects).filteredOn(o -> o instanceof BudgetedModel).hasSize(3);
    assertThat(objects)
        .as("examples/invalid is not applied")
        .noneMatch(o -> o.getMetadata().getName().contains("bad"));
  }

  @Test
  void idleTimeoutOverrideReplacesEveryModelsTimeoutAndFixesTheKeepAlive() {
    List<HasMetadata> objects =
        examples(SandboxConfig.forTests().withIdleTimeout(Duration.ofSeconds(7)));

    assertThat(objects)
        .filteredOn(o -> o instanceof BudgetedModel)
        .map(o -> ((BudgetedModel) o).getSpec().scaleToZero())
        .allSatisfy(
            s -> {
              assertThat(s.idleTimeout()).isEqualTo("7s");
              assertThat(s.keepAlive().name()).isEqualTo("FIXED");
            });
  }

  @Test
  void envoyBootstrapPointsAtTheSandboxsAddresses() throws Exception {
    String bootstrap = Files.readString(SandboxConfig.repositoryPath("envoy/envoy.yaml"));

    String rewritten =
        new DataPlane.Ports("127.0.0.1", 8080, 18000, 9002).rewriteEnvoyBootstrap(bootstrap);

    assertThat(rewritten)
        .contains("{address: 127.0.0.1, port_value: 18000}")
        .contains("{address: 127.0.0.1, port_value: 9002}")
        .contains("{address: 127.0.0.1, port_value: 8080}")
        .doesNotContain("address: ibc-controller")
        .doesNotContain("address: ext-proc");
    assertThatThrownBy(
            () -> new DataPlane.Ports("127.0.0.1", 1, 2, 3).rewriteEnvoyBootstrap("node: {}"))
        .hasMessageContaining("exactly once");
  }

  @Test
  void stateLinesShowReservedMemoryReplicasAndHeldRequests() {
    SandboxState state =
        new SandboxState(
            List.of(
                new SandboxState.Model(
                    "team-a/qwen",
                    List.of("qwen"),
                    "team-a/team-a",
                    "ColdStarting",
                    1,
                    1,
                    0,
                    0,
                    80L << 30,
                    2)),
            List.of(
                new SandboxState.Budget(
                    "team-a/team-a", 160L << 30, 80L << 30, 80L << 30, "Available")),
            2);

    assertThat(StateLines.render(state))
        .containsExactly(
            "  budget team-a/team-a  reserved 80Gi / 160Gi (50%), pods hold 80Gi  Available",
            "  model  team-a/qwen    ColdStarting  replicas desired 1, ready 0/1  held 2");
    assertThat(StateLines.gib(512L << 20)).isEqualTo("0.5Gi");
  }

  @Test
  void configNamesEveryInvalidKey() {
    assertThatThrownBy(
            () ->
                SandboxConfig.forTests()
                    .withPorts(-1, 0, 0, 0)
                    .withIdleTimeout(Duration.ofMillis(1500))
                    .withEnvoyBinary(Path.of("/usr/bin/envoy"))
                    .validate())
        .hasMessageContaining("dataPlanePort = -1")
        .hasMessageContaining("idleTimeout = PT1.5S")
        .hasMessageContaining("envoyBinary is set");
  }
}
