package dev.inferencebudget.harness.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.inferencebudget.harness.vllm.VllmSimulatorConfig;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SimulatedClusterTest {
  private static final String NS = "models";
  private static final Duration AWAIT = Duration.ofSeconds(20);
  private static SimulatedCluster cluster;
  private static KubernetesClient client;
  private static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    cluster =
        SimulatedCluster.start(
            SimulatedKubeletConfig.defaults()
                .withDeploymentSelector(Map.of("app.kubernetes.io/part-of", "sim-test"))
                .withSimulatorDefaults(
                    VllmSimulatorConfig.builder()
                        .loadTime(Duration.ofMillis(200))
                        .prefillTokensPerSecond(100_000)
                        .decodeTokensPerSecond(5_000)
                        .build()));
    client = cluster.client();
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static Deployment deployment(String name, int replicas, Map<String, String> annotations) {
    return new DeploymentBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(NS)
        .withLabels(Map.of("app.kubernetes.io/part-of", "sim-test"))
        .withAnnotations(annotations)
        .endMetadata()
        .withNewSpec()
        .withReplicas(replicas)
        .withNewSelector()
        .withMatchLabels(Map.of("app", name))
        .endSelector()
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(Map.of("app", name))
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("vllm")
        .withImage("vllm/vllm-openai:v0.12.0")
        .endContainer()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  private static List<EndpointSlice> slices(String service) {
    return client
        .discovery()
        .v1()
        .endpointSlices()
        .inNamespace(NS)
        .withLabel(SimulatedObjects.SERVICE_NAME_LABEL, service)
        .list()
        .getItems();
  }

  private static List<Pod> pods(String deployment) {
    return client.pods().inNamespace(NS).withLabel("app", deployment).list().getItems();
  }

  private static boolean podReady(Pod p) {
    return p.getStatus().getConditions().stream()
        .anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True"));
  }

  private static Endpoint endpoint(EndpointSlice s) {
    return s.getEndpoints().get(0);
  }

  private static HttpResponse<String> chat(int port, String model) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
            .header("content-type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"model\":\""
                        + model
                        + "\",\"max_tokens\":3,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void scalingFromZeroToTwoStartsTwoSimulatorsWhosePodsAndSlicesTurnReadyAfterLoading()
      throws Exception {
    List<String> sliceReadiness = new CopyOnWriteArrayList<>();
    try (Watch watch =
        client
            .discovery()
            .v1()
            .endpointSlices()
            .inNamespace(NS)
            .withLabel(SimulatedObjects.SERVICE_NAME_LABEL, "llama-svc")
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, EndpointSlice s) {
                    sliceReadiness.add(action + ":" + endpoint(s).getConditions().getReady());
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                })) {
      client
          .apps()
          .deployments()
          .resource(
              deployment(
                  "llama",
                  0,
                  Map.of(
                      DeploymentSimulation.SERVED_MODEL_NAMES, "llama-8b,llama-alias",
                      DeploymentSimulation.SERVICE_NAME, "llama-svc")))
          .create();
      client.apps().deployments().inNamespace(NS).withName("llama").scale(2);

      await()
          .atMost(AWAIT)
          .until(
              () ->
                  pods("llama").size() == 2
                      && pods("llama").stream().allMatch(SimulatedClusterTest::podReady));
      await()
          .atMost(AWAIT)
          .until(
              () ->
                  slices("llama-svc").size() == 2
                      && slices("llama-svc").stream()
                          .allMatch(s -> endpoint(s).getConditions().getReady()));
      await()
          .atMost(AWAIT)
          .until(
              () -> {
                var status =
                    client.apps().deployments().inNamespace(NS).withName("llama").get().getStatus();
                return status != null
                    && Integer.valueOf(2).equals(status.getReadyReplicas())
                    && Integer.valueOf(2).equals(status.getAvailableReplicas())
                    && Integer.valueOf(2).equals(status.getReplicas());
              });
    }

    assertThat(sliceReadiness)
        .as("each slice appears not ready, then turns ready")
        .startsWith("ADDED:false");
    assertThat(sliceReadiness).contains("MODIFIED:true");
    List<Pod> pods = pods("llama");
    assertThat(pods).extracting(p -> p.getSpec().getNodeName()).doesNotHaveDuplicates();
    assertThat(pods).allSatisfy(p -> assertThat(p.getStatus().getPodIP()).isEqualTo("127.0.0.1"));
    for (EndpointSlice s : slices("llama-svc")) {
      int port = s.getPorts().get(0).getPort();
      Pod pod = client.pods().inNamespace(NS).withName(endpoint(s).getTargetRef().getName()).get();
      assertThat(pod.getSpec().getContainers().get(0).getPorts().get(0).getContainerPort())
          .isEqualTo(port);
      assertThat(endpoint(s).getAddresses()).containsExactly("127.0.0.1");
      assertThat(endpoint(s).getConditions().getServing()).isTrue();
      assertThat(endpoint(s).getConditions().getTerminating()).isFalse();
      HttpResponse<String> health =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(200);
      HttpResponse<String> served = chat(port, "llama-alias");
      assertThat(served.statusCode()).isEqualTo(200);
      assertThat(served.body()).contains("\"completion_tokens\":3");
    }
    assertThat(cluster.kubelet().replicas(NS, "llama"))
        .hasSize(2)
        .allMatch(SimulatedKubelet.Replica::ready);
  }

  @Test
  void scalingFromTwoToZeroMarksPodsTerminatingThenRemovesThemAndStopsTheSimulators() {
    client
        .apps()
        .deployments()
        .resource(deployment("qwen", 2, Map.of(DeploymentSimulation.TERMINATION_DELAY, "700ms")))
        .create();
    await()
        .atMost(AWAIT)
        .until(
            () ->
                slices("qwen").size() == 2
                    && slices("qwen").stream()
                        .allMatch(s -> endpoint(s).getConditions().getReady()));
    List<Integer> ports = slices("qwen").stream().map(s -> s.getPorts().get(0).getPort()).toList();

    client.apps().deployments().inNamespace(NS).withName("qwen").scale(0);

    await()
        .atMost(AWAIT)
        .until(
            () ->
                slices("qwen").size() == 2
                    && slices("qwen").stream()
                        .allMatch(
                            s ->
                                endpoint(s).getConditions().getTerminating()
                                    && !endpoint(s).getConditions().getReady()));
    List<Pod> terminating = pods("qwen");
    assertThat(terminating).hasSize(2);
    assertThat(terminating)
        .allSatisfy(p -> assertThat(p.getMetadata().getDeletionTimestamp()).isNotNull());
    assertThat(terminating).noneMatch(SimulatedClusterTest::podReady);
    var status = client.apps().deployments().inNamespace(NS).withName("qwen").get().getStatus();
    assertThat(status.getReplicas()).isZero();
    assertThat(status.getTerminatingReplicas()).as("terminating pods still count").isEqualTo(2);

    await().atMost(AWAIT).until(() -> pods("qwen").isEmpty() && slices("qwen").isEmpty());
    await()
        .atMost(AWAIT)
        .until(
            () ->
                client
                        .apps()
                        .deployments()
                        .inNamespace(NS)
                        .withName("qwen")
                        .get()
                        .getStatus()
                        .getTerminatingReplicas()
                    == 0);
    for (int port : ports) {
      assertThatThrownBy(() -> chat(port, "qwen"))
          .isInstanceOfAny(ConnectException.class, IOException.class);
    }
    assertThat(cluster.kubelet().replicas(NS, "qwen")).isEmpty();
  }

  @Test
  void deploymentsWithoutTheSelectorLabelAreLeftAlone() {
    Deployment other = deployment("ignored", 1, Map.of());
    other.getMetadata().setLabels(Map.of("app.kubernetes.io/part-of", "something-else"));
    client.apps().deployments().resource(other).create();
    client.apps().deployments().resource(deployment("watched", 1, Map.of())).create();

    await().atMost(AWAIT).until(() -> pods("watched").size() == 1);
    assertThat(pods("ignored")).isEmpty();
  }
}
