package dev.inferencebudget.controller;

import dev.inferencebudget.controller.config.ControllerConfig;
import dev.inferencebudget.controller.k8s.BudgetController;
import dev.inferencebudget.xds.api.XdsConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The controller process: configuration from the environment, then wiring. The only place that
 * reads the system clock.
 *
 * <p>Environment: {@code IBC_NAMESPACES} (comma-separated; empty = all), {@code POD_NAME} (the
 * leader-election identity), {@code POD_NAMESPACE} (the Lease's namespace), {@code
 * IBC_LEADER_ELECTION} ({@code false} to lead without a Lease), {@code IBC_XDS_WITHOUT_ENVOYS}
 * ({@code READY_ENDPOINT} behind Envoy Gateway; default {@code NOT_ROUTABLE}).
 */
public final class Main {

  private Main() {}

  public static void main(String[] args) throws Exception {
    ControllerConfig defaults = ControllerConfig.defaults();
    String namespaces = System.getenv().getOrDefault("IBC_NAMESPACES", "");
    List<String> watched =
        Arrays.stream(namespaces.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    ControllerConfig.LeaderElection le =
        defaults
            .leaderElection()
            .withIdentity(
                System.getenv().getOrDefault("POD_NAME", defaults.leaderElection().identity()))
            .withEnabled(!"false".equals(System.getenv("IBC_LEADER_ELECTION")));
    String leaseNamespace = System.getenv("POD_NAMESPACE");
    if (leaseNamespace != null && !leaseNamespace.isBlank()) {
      le =
          new ControllerConfig.LeaderElection(
              le.enabled(),
              leaseNamespace,
              le.leaseName(),
              le.identity(),
              le.leaseDuration(),
              le.renewDeadline(),
              le.retryPeriod());
    }
    ControllerConfig config = defaults.withNamespaces(watched).withLeaderElection(le).validate();
    XdsConfig xdsConfig =
        XdsConfig.defaults().withListenAddress(config.bindAddress(), config.xdsPort()).validate();
    // Behind Envoy Gateway (or another controller's Envoys) no Envoy ACKs this server's xDS.
    String withoutEnvoys = System.getenv("IBC_XDS_WITHOUT_ENVOYS");
    if (withoutEnvoys != null && !withoutEnvoys.isBlank()) {
      xdsConfig =
          xdsConfig.withWithoutEnvoys(XdsConfig.WithoutEnvoys.valueOf(withoutEnvoys.trim()));
    }

    PrometheusRegistry registry = new PrometheusRegistry();
    KubernetesClient client = new KubernetesClientBuilder().build();
    BudgetController controller =
        new BudgetController(client, config, xdsConfig, Clock.systemUTC(), registry).start();
    HTTPServer metrics =
        HTTPServer.builder()
            .hostname(config.bindAddress())
            .port(config.metricsPort())
            .registry(registry)
            .buildAndStart();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    controller.close();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  metrics.close();
                  client.close();
                  stopped.countDown();
                }));
    stopped.await();
  }
}
