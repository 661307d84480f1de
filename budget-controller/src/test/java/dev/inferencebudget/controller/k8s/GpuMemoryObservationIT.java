package dev.inferencebudget.controller.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.inferencebudget.controller.api.Quantities;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudget;
import dev.inferencebudget.controller.config.ControllerConfig;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * GPU memory observed from a replica's vLLM {@code /metrics} (a tiny local HTTP server stands in
 * for vLLM), reported against the reservation.
 */
class GpuMemoryObservationIT {

  private static final String NS = "team-a";

  private MockCluster.OwnServer cluster;
  private KubernetesClient client;

  private final AtomicReference<String> utilization = new AtomicReference<>("0.9");
  private HttpServer vllm;
  private BudgetController controller;

  @BeforeEach
  void start() throws Exception {
    cluster = new MockCluster.OwnServer();
    client = cluster.client;
    vllm = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    vllm.createContext(
        "/metrics",
        exchange -> {
          byte[] body =
              ("# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig\n"
                      + "# TYPE vllm:cache_config_info gauge\n"
                      + "vllm:cache_config_info{block_size=\"16\",enable_prefix_caching=\"True\","
                      + "gpu_memory_utilization=\""
                      + utilization.get()
                      + "\",num_gpu_blocks=\"2048\"} 1.0\n")
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    vllm.start();
  }

  @AfterEach
  void stop() throws Exception {
    if (controller != null) {
      controller.close();
    }
    vllm.stop(0);
    cluster.close();
  }

  private BudgetedModel model() {
    return client.resources(BudgetedModel.class).inNamespace(NS).withName("llama").get();
  }

  private Optional<Condition> condition() {
    BudgetedModel m = model();
    return m == null || m.getStatus() == null
        ? Optional.empty()
        : m.getStatus().conditions().stream()
            .filter(c -> c.getType().equals(Reconciler.MEMORY_WITHIN_RESERVATION))
            .findFirst();
  }

  @Test
  void aReplicaUsingMoreThanItReservedIsFlaggedAndObservedMemoryIsReported() throws Exception {
    MockCluster.createLlama(client, NS, 1, "10m");
    client
        .pods()
        .inNamespace(NS)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName("llama-0")
                .withNamespace(NS)
                .withLabels(Map.of("app", "llama"))
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("vllm")
                .withPorts(
                    new ContainerPortBuilder()
                        .withName("http")
                        .withContainerPort(vllm.getAddress().getPort())
                        .build())
                .endContainer()
                .endSpec()
                .withNewStatus()
                .withPodIP("127.0.0.1")
                .addNewCondition()
                .withType("Ready")
                .withStatus("True")
                .endCondition()
                .endStatus()
                .build())
        .create();
    ControllerConfig config =
        MockCluster.config("controller-0", false)
            .withGpuObservation(
                new ControllerConfig.GpuObservation(
                    false, Duration.ofSeconds(30), Duration.ofSeconds(2), 32L << 30));
    PrometheusRegistry registry = new PrometheusRegistry();
    controller =
        new BudgetController(
                client, config, MockCluster.xdsConfig(), new TestClock(Instant.EPOCH), registry)
            .start();
    await().until(() -> controller.reconciler().gpuTargets().size() == 1);

    // vLLM claims 90% of a 32Gi GPU: 28.8Gi, above the 24Gi the replica reserved.
    controller.gpuObserver().round();

    await().until(() -> condition().map(c -> c.getStatus().equals("False")).orElse(false));
    assertThat(condition().get().getMessage()).contains("llama-0 uses");
    long observed = Math.round(0.9 * (32L << 30));
    assertThat(Quantities.toBytes(model().getStatus().observedGpuMemory(), "observed"))
        .isEqualTo(observed);
    await()
        .until(
            () ->
                client.v1().events().inNamespace(NS).list().getItems().stream()
                    .anyMatch(e -> e.getReason().equals("MemoryOverReservation")));
    await()
        .until(
            () -> {
              InferenceBudget b =
                  client.resources(InferenceBudget.class).inNamespace(NS).withName("gpu").get();
              return b.getStatus() != null
                  && b.getStatus().observedGpuMemory() != null
                  && Quantities.toBytes(b.getStatus().observedGpuMemory(), "b") == observed;
            });
    assertThat(gauge(registry, "ibc_model_observed_gpu_memory_bytes")).isEqualTo(observed);

    // Reconfigured to 50%: 16Gi, within the reservation.
    utilization.set("0.5");
    controller.gpuObserver().round();
    await().until(() -> condition().map(c -> c.getStatus().equals("True")).orElse(false));
    assertThat(Quantities.toBytes(model().getStatus().observedGpuMemory(), "observed"))
        .isEqualTo(16L << 30);
  }

  private static double gauge(PrometheusRegistry registry, String name) {
    return registry.scrape().stream()
        .filter(s -> s.getMetadata().getName().equals(name.replace("_bytes", "")))
        .map(s -> ((GaugeSnapshot) s).getDataPoints().get(0).getValue())
        .findFirst()
        .orElseGet(
            () ->
                registry.scrape().stream()
                    .filter(s -> s.getMetadata().getPrometheusName().equals(name))
                    .map(s -> ((GaugeSnapshot) s).getDataPoints().get(0).getValue())
                    .findFirst()
                    .orElse(-1.0));
  }
}
