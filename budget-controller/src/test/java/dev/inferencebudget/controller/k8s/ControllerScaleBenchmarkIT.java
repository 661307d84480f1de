package dev.inferencebudget.controller.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.Preemption;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Scale benchmark: 2,000 BudgetedModels across 200 budgets (one budget and ten models per
 * namespace, a quarter of the models with a ready replica) in fabric8's CRUD mock. Reports the
 * decision-cycle time of a settled fleet (read caches, decide, build statuses and model states, xDS
 * update, publish; no writes needed) and the heap after GC. Run it with
 *
 * <pre>
 * mvn -B -o -pl budget-controller -am verify -Dibc.benchmark=true -Dit.test=ControllerScaleBenchmarkIT \
 *   -Dtest=NoSuch -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false
 * </pre>
 */
@EnabledIfSystemProperty(named = "ibc.benchmark", matches = "true")
class ControllerScaleBenchmarkIT {

  private static final java.util.logging.Logger MOCK_SERVER_LOG =
      java.util.logging.Logger.getLogger(MockWebServer.class.getName());

  static final int BUDGETS = 200;
  static final int MODELS_PER_BUDGET = 10;

  @Test
  void twoThousandModelsAcrossTwoHundredBudgets() throws Exception {
    System.out.println(run());
  }

  public static void main(String[] args) throws Exception {
    System.out.println(run());
  }

  static String run() throws Exception {
    MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(List.of()),
            false);
    server.init(InetAddress.getByName("127.0.0.1"), 0);
    try (KubernetesClient client = server.createClient()) {
      MockCluster.registerCrds(client);
      long createStart = System.nanoTime();
      for (int b = 0; b < BUDGETS; b++) {
        String ns = String.format("team-%03d", b);
        client
            .resource(MockCluster.budget(ns, "gpu", "160Gi", Preemption.IDLE_LOWER_PRIORITY))
            .create();
        for (int m = 0; m < MODELS_PER_BUDGET; m++) {
          String name = "model-" + m;
          boolean running = m % 4 == 0;
          client.resource(MockCluster.deployment(ns, name, running ? 1 : 0)).create();
          client
              .resource(MockCluster.model(ns, name, ns + "-" + name, "gpu", "16Gi", m * 10, "10m"))
              .create();
          if (running) {
            client
                .pods()
                .inNamespace(ns)
                .resource(
                    new PodBuilder()
                        .withNewMetadata()
                        .withNamespace(ns)
                        .withName(name + "-0")
                        .withLabels(Map.of("app", name))
                        .endMetadata()
                        .withNewSpec()
                        .withNodeName("node-" + (b % 20))
                        .endSpec()
                        .withNewStatus()
                        .withPodIP("10.0." + b + "." + m)
                        .withConditions(
                            new PodConditionBuilder().withType("Ready").withStatus("True").build())
                        .endStatus()
                        .build())
                .create();
          }
        }
      }
      Duration creating = Duration.ofNanos(System.nanoTime() - createStart);
      TestClock clock = new TestClock(Instant.parse("2026-11-28T09:00:00Z"));
      long startupStart = System.nanoTime();
      try (BudgetController c =
          new BudgetController(
                  client,
                  MockCluster.config("bench", false),
                  MockCluster.xdsConfig(),
                  clock,
                  new PrometheusRegistry())
              .start()) {
        int total = BUDGETS * MODELS_PER_BUDGET;
        await()
            .atMost(Duration.ofMinutes(5))
            .pollInterval(Duration.ofSeconds(1))
            .until(
                () ->
                    client
                            .resources(BudgetedModel.class)
                            .inAnyNamespace()
                            .list()
                            .getItems()
                            .stream()
                            .filter(m -> m.getStatus() != null && m.getStatus().state() != null)
                            .count()
                        == total);
        Duration settling = Duration.ofNanos(System.nanoTime() - startupStart);
        // Warm up, then measure settled cycles.
        for (int i = 0; i < 20; i++) {
          clock.advance(Duration.ofSeconds(1));
          c.reconciler().cycleAndWait();
        }
        // The machine is shared: wall time varies with the load, the reconciler thread's CPU time
        // much less, so both are reported.
        long reconcilerThread =
            Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("ibc-reconciler-bench"))
                .findFirst()
                .orElseThrow()
                .getId();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        List<Long> micros = new ArrayList<>();
        List<Long> cpuMicros = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
          clock.advance(Duration.ofSeconds(1));
          long cpuBefore = threads.getThreadCpuTime(reconcilerThread);
          micros.add(c.reconciler().cycleAndWait().toNanos() / 1000);
          cpuMicros.add((threads.getThreadCpuTime(reconcilerThread) - cpuBefore) / 1000);
        }
        micros.sort(Long::compare);
        cpuMicros.sort(Long::compare);
        for (int i = 0; i < 3; i++) {
          System.gc();
          Thread.sleep(200);
        }
        Runtime rt = Runtime.getRuntime();
        long heapMb = (rt.totalMemory() - rt.freeMemory()) >> 20;
        String report =
            String.format(
                "controller scale benchmark: %d models, %d budgets, %d running replicas%n"
                    + "  created objects in %d s; first full status write in %d s%n"
                    + "  settled decision cycle: p50 %.1f ms, p95 %.1f ms, max %.1f ms (50 cycles)%n"
                    + "  reconciler thread CPU per cycle: p50 %.1f ms, p95 %.1f ms%n"
                    + "  load average at the end: %.1f%n"
                    + "  heap used after GC (controller + mock API server + its store, one JVM): %d MB",
                total,
                BUDGETS,
                total / 4,
                creating.toSeconds(),
                settling.toSeconds(),
                micros.get(micros.size() / 2) / 1000.0,
                micros.get(micros.size() * 95 / 100) / 1000.0,
                micros.get(micros.size() - 1) / 1000.0,
                cpuMicros.get(cpuMicros.size() / 2) / 1000.0,
                cpuMicros.get(cpuMicros.size() * 95 / 100) / 1000.0,
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                heapMb);
        assertThat(micros).isNotEmpty();
        return report;
      }
    } finally {
      server.destroy();
    }
  }
}
