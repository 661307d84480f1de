package dev.inferencebudget.controller;

import dev.inferencebudget.controller.api.Quantities;
import dev.inferencebudget.controller.config.ControllerConfig;
import dev.inferencebudget.controller.k8s.BudgetController;
import dev.inferencebudget.controller.link.PeerTransport;
import dev.inferencebudget.proto.tls.GrpcTls;
import dev.inferencebudget.xds.api.XdsConfig;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * The controller process: configuration from the environment, then wiring. The only place that
 * reads the system clock.
 *
 * <p>Environment (each unset key keeps {@link ControllerConfig#defaults()}): {@code IBC_NAMESPACES}
 * (comma-separated; empty = all), {@code IBC_XDS_PORT}, {@code IBC_LINK_API_PORT}, {@code
 * IBC_METRICS_PORT}, {@code POD_NAME} (the leader-election identity), {@code IBC_LEASE_NAME},
 * {@code IBC_LEASE_NAMESPACE} (else {@code POD_NAMESPACE}), {@code IBC_LEADER_ELECTION} ({@code
 * false} to lead without a Lease), {@code IBC_XDS_WITHOUT_ENVOYS} ({@code READY_ENDPOINT} behind
 * Envoy Gateway; default {@code NOT_ROUTABLE}), {@code IBC_TLS_DIR}, {@code IBC_TLS_CLIENT_AUTH}
 * and {@code IBC_TLS_RELOAD_SECONDS} (TLS of the xDS and link API ports, {@link GrpcTls}), {@code
 * IBC_PEER_TLS_AUTHORITY} (with TLS: the DNS name a standby checks the leader's certificate
 * against, {@link #peerTlsAuthority}), {@code IBC_GPU_MEMORY_PER_DEVICE} (a quantity such as {@code
 * 80Gi}: the size of one GPU of the pool, which turns vLLM's reported fraction into observed
 * bytes).
 */
public final class Main {

  /**
   * The DNS name a standby checks the leader's certificate against (the leader is dialled by IP).
   */
  public static final String PEER_TLS_AUTHORITY_ENV = "IBC_PEER_TLS_AUTHORITY";

  /** The size of one GPU of the pool, a Kubernetes quantity ({@code 80Gi}). */
  public static final String GPU_MEMORY_PER_DEVICE_ENV = "IBC_GPU_MEMORY_PER_DEVICE";

  private Main() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> env = System.getenv();
    ControllerConfig config = fromEnvironment(env).validate();
    GrpcTls tls = GrpcTls.fromEnvironment(env);
    Optional<String> peerAuthority = peerTlsAuthority(env, tls, config.leaderElection().enabled());
    XdsConfig xdsConfig =
        XdsConfig.defaults().withListenAddress(config.bindAddress(), config.xdsPort()).validate();
    // Behind Envoy Gateway (or another controller's Envoys) no Envoy ACKs this server's xDS.
    String withoutEnvoys = env.get("IBC_XDS_WITHOUT_ENVOYS");
    if (withoutEnvoys != null && !withoutEnvoys.isBlank()) {
      xdsConfig =
          xdsConfig.withWithoutEnvoys(XdsConfig.WithoutEnvoys.valueOf(withoutEnvoys.trim()));
    }

    PrometheusRegistry registry = new PrometheusRegistry();
    KubernetesClient client = new KubernetesClientBuilder().build();
    BudgetController controller =
        new BudgetController(client, config, xdsConfig, Clock.systemUTC(), registry)
            .serverCredentials(tls.serverCredentials())
            .peerTransport(new PeerTransport(tls.channelCredentials(), peerAuthority))
            .start();
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
                  tls.close();
                  stopped.countDown();
                }));
    stopped.await();
  }

  /** The configuration an environment describes (not yet validated). */
  public static ControllerConfig fromEnvironment(Map<String, String> env) {
    ControllerConfig defaults = ControllerConfig.defaults();
    List<String> watched =
        Arrays.stream(env.getOrDefault("IBC_NAMESPACES", "").split(","))
            .map(String::trim)
            .filter(s -> !s.isEmpty())
            .toList();
    ControllerConfig.LeaderElection le = defaults.leaderElection();
    String leaseNamespace =
        firstNonBlank(
            env.get("IBC_LEASE_NAMESPACE"), env.get("POD_NAMESPACE"), le.leaseNamespace());
    le =
        new ControllerConfig.LeaderElection(
            !"false".equals(env.get("IBC_LEADER_ELECTION")),
            leaseNamespace,
            firstNonBlank(env.get("IBC_LEASE_NAME"), le.leaseName()),
            firstNonBlank(env.get("POD_NAME"), le.identity()),
            le.leaseDuration(),
            le.renewDeadline(),
            le.retryPeriod());
    ControllerConfig.GpuObservation gpu = defaults.gpuObservation();
    String gpuMemory = env.get(GPU_MEMORY_PER_DEVICE_ENV);
    if (gpuMemory != null && !gpuMemory.isBlank()) {
      gpu = gpu.withGpuMemoryPerDeviceBytes(gpuMemoryBytes(gpuMemory.trim()));
    }
    return defaults
        .withGpuObservation(gpu)
        .withNamespaces(watched)
        .withPorts(
            defaults.bindAddress(),
            port(env, "IBC_XDS_PORT", defaults.xdsPort()),
            port(env, "IBC_LINK_API_PORT", defaults.linkApiPort()),
            port(env, "IBC_METRICS_PORT", defaults.metricsPort()))
        .withLeaderElection(le);
  }

  /**
   * The authority a standby verifies the leader's certificate against: {@code
   * IBC_PEER_TLS_AUTHORITY} if set. A standby dials the leader by pod IP, and certificates (the
   * chart's, cert-manager's) name Service DNS names, not pod IPs; the process cannot derive its
   * Service's name by itself, so with TLS and leader election it refuses to start without one
   * rather than fail every forward later. Without TLS, or without leader election (no standbys), it
   * is optional.
   *
   * @throws IllegalArgumentException naming the variable when TLS and leader election are on and it
   *     is missing
   */
  public static Optional<String> peerTlsAuthority(
      Map<String, String> env, GrpcTls tls, boolean leaderElection) {
    String value = env.get(PEER_TLS_AUTHORITY_ENV);
    if (value != null && !value.isBlank()) {
      return Optional.of(value.trim());
    }
    if (tls.enabled() && leaderElection) {
      throw new IllegalArgumentException(
          PEER_TLS_AUTHORITY_ENV
              + " is not set, but "
              + GrpcTls.ENV
              + " turns on TLS and standbys dial the leader by pod IP: set it to a DNS name the"
              + " controller certificate covers (the chart sets the controller Service's,"
              + " <release>-controller.<namespace>.svc)");
    }
    return Optional.empty();
  }

  private static long gpuMemoryBytes(String value) {
    Quantity quantity;
    try {
      quantity = new Quantity(value);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          GPU_MEMORY_PER_DEVICE_ENV + " = " + value + ", must be a quantity such as 80Gi", e);
    }
    return Quantities.toBytes(quantity, GPU_MEMORY_PER_DEVICE_ENV);
  }

  private static int port(Map<String, String> env, String key, int fallback) {
    String value = env.get(key);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " = " + value + ", must be a port number", e);
    }
  }

  private static String firstNonBlank(String... values) {
    for (String v : values) {
      if (v != null && !v.isBlank()) {
        return v;
      }
    }
    throw new IllegalStateException("no value");
  }
}
