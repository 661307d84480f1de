package dev.inferencebudget.controller.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Everything the controller process is configured with. {@link #defaults()} lists every default in
 * one place (the Helm chart's {@code values.yaml} must agree); {@link #validate()} names the key
 * that is wrong.
 *
 * @param namespaces namespaces to watch; empty means all namespaces
 * @param bindAddress address the xDS, link API and metrics servers bind to
 * @param xdsPort ADS server port (Envoy's bootstrap points here)
 * @param linkApiPort gRPC port of the ext-proc ⇄ controller API
 * @param metricsPort Prometheus scrape port; 0 picks a free port
 * @param debounce how long a burst of cache events is coalesced into one decision cycle
 * @param tick the longest time between two decision cycles, even without events (a safety net for
 *     timers and load samples)
 * @param leaderElection the Lease that elects the one writer
 * @param eventDedupWindow an event with the same object, reason and message is not repeated within
 *     this window
 * @param conflictRetries how often a write that met a 409 Conflict is retried on fresh state
 * @param startupGrace after becoming the leader (a start, a restart, a failover) the controller
 *     waits this long before its first write, so that ext-proc replicas reconnect and report the
 *     requests they hold; without it a model held mid cold start looks idle
 * @param gpuObservation how the GPU memory of ready replicas is observed (reported, never decided
 *     on)
 */
public record ControllerConfig(
    List<String> namespaces,
    String bindAddress,
    int xdsPort,
    int linkApiPort,
    int metricsPort,
    Duration debounce,
    Duration tick,
    LeaderElection leaderElection,
    Duration eventDedupWindow,
    int conflictRetries,
    Duration startupGrace,
    GpuObservation gpuObservation) {

  /**
   * Observing the GPU memory replicas use, from vLLM's {@code /metrics}.
   *
   * @param enabled whether to scrape at all
   * @param period between two scrapes of every ready replica (slow: the value changes only when a
   *     replica starts)
   * @param timeout of one scrape
   * @param gpuMemoryPerDeviceBytes the size of one GPU of the pool (vLLM reports the fraction it
   *     claims, not bytes); 80 GiB, an A100/H100 80GB
   */
  public record GpuObservation(
      boolean enabled, Duration period, Duration timeout, long gpuMemoryPerDeviceBytes) {
    public GpuObservation {
      Objects.requireNonNull(period, "period");
      Objects.requireNonNull(timeout, "timeout");
    }

    public GpuObservation withPeriod(Duration newPeriod) {
      return new GpuObservation(enabled, newPeriod, timeout, gpuMemoryPerDeviceBytes);
    }

    public GpuObservation withGpuMemoryPerDeviceBytes(long newGpuMemoryPerDeviceBytes) {
      return new GpuObservation(enabled, period, timeout, newGpuMemoryPerDeviceBytes);
    }
  }

  /**
   * The Lease-based leader election.
   *
   * @param enabled without it the process acts as the leader at once (one replica, tests)
   * @param leaseNamespace namespace of the Lease object
   * @param leaseName name of the Lease object
   * @param identity this replica's holder identity (defaults to the pod name in {@code Main})
   * @param leaseDuration how long a lease is valid without renewal
   * @param renewDeadline the leader gives up if it cannot renew within this
   * @param retryPeriod how often candidates try to acquire or renew
   */
  public record LeaderElection(
      boolean enabled,
      String leaseNamespace,
      String leaseName,
      String identity,
      Duration leaseDuration,
      Duration renewDeadline,
      Duration retryPeriod) {
    public LeaderElection {
      Objects.requireNonNull(leaseNamespace, "leaseNamespace");
      Objects.requireNonNull(leaseName, "leaseName");
      Objects.requireNonNull(identity, "identity");
      Objects.requireNonNull(leaseDuration, "leaseDuration");
      Objects.requireNonNull(renewDeadline, "renewDeadline");
      Objects.requireNonNull(retryPeriod, "retryPeriod");
    }

    public LeaderElection withIdentity(String newIdentity) {
      return new LeaderElection(
          enabled,
          leaseNamespace,
          leaseName,
          newIdentity,
          leaseDuration,
          renewDeadline,
          retryPeriod);
    }

    public LeaderElection withTimings(
        Duration newLeaseDuration, Duration newRenewDeadline, Duration newRetryPeriod) {
      return new LeaderElection(
          enabled,
          leaseNamespace,
          leaseName,
          identity,
          newLeaseDuration,
          newRenewDeadline,
          newRetryPeriod);
    }

    public LeaderElection withEnabled(boolean newEnabled) {
      return new LeaderElection(
          newEnabled,
          leaseNamespace,
          leaseName,
          identity,
          leaseDuration,
          renewDeadline,
          retryPeriod);
    }
  }

  public ControllerConfig {
    namespaces = List.copyOf(Objects.requireNonNull(namespaces, "namespaces"));
    Objects.requireNonNull(bindAddress, "bindAddress");
    Objects.requireNonNull(debounce, "debounce");
    Objects.requireNonNull(tick, "tick");
    Objects.requireNonNull(leaderElection, "leaderElection");
    Objects.requireNonNull(eventDedupWindow, "eventDedupWindow");
    Objects.requireNonNull(gpuObservation, "gpuObservation");
    Objects.requireNonNull(startupGrace, "startupGrace");
  }

  /** Every default, in one literal. */
  public static ControllerConfig defaults() {
    return new ControllerConfig(
        List.of(),
        "0.0.0.0",
        18000,
        9090,
        9091,
        Duration.ofMillis(100),
        Duration.ofSeconds(5),
        new LeaderElection(
            true,
            "inference-budget-system",
            "inference-budget-controller",
            "controller",
            Duration.ofSeconds(15),
            Duration.ofSeconds(10),
            Duration.ofSeconds(2)),
        Duration.ofMinutes(10),
        5,
        Duration.ofSeconds(5),
        new GpuObservation(true, Duration.ofSeconds(30), Duration.ofSeconds(2), 80L << 30));
  }

  /** Returns this config, or throws naming the first invalid key. */
  public ControllerConfig validate() {
    for (String ns : namespaces) {
      if (ns.isBlank()) {
        throw new IllegalArgumentException("namespaces contains a blank name");
      }
    }
    if (bindAddress.isBlank()) {
      throw new IllegalArgumentException("bindAddress is blank");
    }
    requirePort("xdsPort", xdsPort);
    requirePort("linkApiPort", linkApiPort);
    requirePort("metricsPort", metricsPort);
    requirePositive("debounce", debounce);
    requirePositive("tick", tick);
    if (debounce.compareTo(tick) >= 0) {
      throw new IllegalArgumentException(
          "debounce = " + debounce + ", must be shorter than tick = " + tick);
    }
    requirePositive("eventDedupWindow", eventDedupWindow);
    if (startupGrace.isNegative()) {
      throw new IllegalArgumentException("startupGrace = " + startupGrace + ", must be >= 0");
    }
    requirePositive("gpuObservation.period", gpuObservation.period());
    requirePositive("gpuObservation.timeout", gpuObservation.timeout());
    if (gpuObservation.gpuMemoryPerDeviceBytes() <= 0) {
      throw new IllegalArgumentException(
          "gpuObservation.gpuMemoryPerDeviceBytes = "
              + gpuObservation.gpuMemoryPerDeviceBytes()
              + ", must be > 0");
    }
    if (conflictRetries < 0) {
      throw new IllegalArgumentException("conflictRetries = " + conflictRetries + ", must be >= 0");
    }
    LeaderElection le = leaderElection;
    if (le.leaseNamespace().isBlank()) {
      throw new IllegalArgumentException("leaderElection.leaseNamespace is blank");
    }
    if (le.leaseName().isBlank()) {
      throw new IllegalArgumentException("leaderElection.leaseName is blank");
    }
    if (le.identity().isBlank()) {
      throw new IllegalArgumentException("leaderElection.identity is blank");
    }
    requirePositive("leaderElection.leaseDuration", le.leaseDuration());
    requirePositive("leaderElection.renewDeadline", le.renewDeadline());
    requirePositive("leaderElection.retryPeriod", le.retryPeriod());
    // The same ordering fabric8's LeaderElector (and client-go) insists on.
    if (le.renewDeadline().compareTo(le.leaseDuration()) >= 0) {
      throw new IllegalArgumentException(
          "leaderElection.renewDeadline = "
              + le.renewDeadline()
              + ", must be shorter than leaderElection.leaseDuration = "
              + le.leaseDuration());
    }
    if (le.retryPeriod().compareTo(le.renewDeadline()) >= 0) {
      throw new IllegalArgumentException(
          "leaderElection.retryPeriod = "
              + le.retryPeriod()
              + ", must be shorter than leaderElection.renewDeadline = "
              + le.renewDeadline());
    }
    return this;
  }

  public ControllerConfig withNamespaces(List<String> newNamespaces) {
    return new ControllerConfig(
        newNamespaces,
        bindAddress,
        xdsPort,
        linkApiPort,
        metricsPort,
        debounce,
        tick,
        leaderElection,
        eventDedupWindow,
        conflictRetries,
        startupGrace,
        gpuObservation);
  }

  public ControllerConfig withGpuObservation(GpuObservation newGpuObservation) {
    return new ControllerConfig(
        namespaces,
        bindAddress,
        xdsPort,
        linkApiPort,
        metricsPort,
        debounce,
        tick,
        leaderElection,
        eventDedupWindow,
        conflictRetries,
        startupGrace,
        newGpuObservation);
  }

  public ControllerConfig withPorts(
      String newBindAddress, int newXds, int newLink, int newMetrics) {
    return new ControllerConfig(
        namespaces,
        newBindAddress,
        newXds,
        newLink,
        newMetrics,
        debounce,
        tick,
        leaderElection,
        eventDedupWindow,
        conflictRetries,
        startupGrace,
        gpuObservation);
  }

  public ControllerConfig withLeaderElection(LeaderElection newLeaderElection) {
    return new ControllerConfig(
        namespaces,
        bindAddress,
        xdsPort,
        linkApiPort,
        metricsPort,
        debounce,
        tick,
        newLeaderElection,
        eventDedupWindow,
        conflictRetries,
        startupGrace,
        gpuObservation);
  }

  public ControllerConfig withTiming(Duration newDebounce, Duration newTick) {
    return new ControllerConfig(
        namespaces,
        bindAddress,
        xdsPort,
        linkApiPort,
        metricsPort,
        newDebounce,
        newTick,
        leaderElection,
        eventDedupWindow,
        conflictRetries,
        startupGrace,
        gpuObservation);
  }

  public ControllerConfig withStartupGrace(Duration newStartupGrace) {
    return new ControllerConfig(
        namespaces,
        bindAddress,
        xdsPort,
        linkApiPort,
        metricsPort,
        debounce,
        tick,
        leaderElection,
        eventDedupWindow,
        conflictRetries,
        newStartupGrace,
        gpuObservation);
  }

  private static void requirePort(String key, int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(key + " = " + port + ", must be in [0, 65535]");
    }
  }

  private static void requirePositive(String key, Duration d) {
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(key + " = " + d + ", must be positive");
    }
  }
}
