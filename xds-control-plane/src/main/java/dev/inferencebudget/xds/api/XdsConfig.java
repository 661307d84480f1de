package dev.inferencebudget.xds.api;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Configuration of the xDS control plane. {@link #defaults()} lists every default in one place;
 * {@link #validate()} names the offending key.
 *
 * @param bindAddress address the ADS server binds to
 * @param port ADS port (0 picks a free port, for tests)
 * @param routeConfigName the RouteConfiguration Envoy's HCM asks for over RDS ({@code llm_routes}
 *     in {@code envoy/envoy.yaml})
 * @param routingHeader request header ext-proc sets to the model key; routes match it exactly
 * @param clusterConnectTimeout connect timeout of each model's cluster
 * @param upstreamProtocol protocol Envoy speaks to the model servers
 * @param lbPolicy load balancing across a model's replicas
 * @param maxRequestsPerCluster circuit breaker of a model's cluster (Envoy's default, 1024, would
 *     cap concurrent generations per model)
 * @param routeIdleTimeout the route's {@code idle_timeout}: a non-streaming generation sends no
 *     bytes until it is done, and it also bounds a held request, so it must exceed {@code
 *     longestHold}
 * @param longestHold the longest time ext-proc may hold a request during a cold start; Envoy's
 *     {@code max_message_timeout} must be at least this and every idle timeout longer (checked
 *     against {@code envoy/envoy.yaml} by a test). At most 3600 s, Envoy's cap for {@code
 *     override_message_timeout}
 * @param withoutEnvoys what routability means while no Envoy is connected to this server
 * @param standaloneListener the Listener served over LDS for a standalone Envoy, if enabled
 */
public record XdsConfig(
    String bindAddress,
    int port,
    String routeConfigName,
    String routingHeader,
    Duration clusterConnectTimeout,
    UpstreamProtocol upstreamProtocol,
    LbPolicy lbPolicy,
    int maxRequestsPerCluster,
    Duration routeIdleTimeout,
    Duration longestHold,
    WithoutEnvoys withoutEnvoys,
    StandaloneListener standaloneListener) {

  /** The longest cold-start hold the shipped bootstrap ({@code envoy/envoy.yaml}) supports. */
  public static final Duration DEFAULT_LONGEST_HOLD = Duration.ofSeconds(900);

  /** Envoy caps {@code max_message_timeout} (and so any hold) at one hour. */
  public static final Duration ENVOY_MAX_MESSAGE_TIMEOUT_CAP = Duration.ofSeconds(3600);

  public static final String DEFAULT_ROUTE_CONFIG_NAME = "llm_routes";
  public static final String DEFAULT_ROUTING_HEADER = "x-ibc-model";

  /** Protocol Envoy uses towards the model servers (vLLM speaks HTTP/1.1; h2c is optional). */
  public enum UpstreamProtocol {
    HTTP1,
    HTTP2
  }

  /** Load balancing across a model's replicas. */
  public enum LbPolicy {
    /** Fewest active requests first: generations vary by orders of magnitude in length. */
    LEAST_REQUEST,
    ROUND_ROBIN
  }

  /** What {@code routable} means while no Envoy is connected to this server. */
  public enum WithoutEnvoys {
    /**
     * Not routable: nothing has ACKed the endpoints, so nothing is known to be able to send there.
     * Right when every Envoy talks to this server (standalone mode, one serving controller).
     */
    NOT_ROUTABLE,
    /**
     * Routable as soon as a ready endpoint exists (as in endpoint-picker mode). For deployments
     * whose Envoys are connected to another controller replica.
     */
    READY_ENDPOINT
  }

  /**
   * The HTTP listener for a standalone Envoy, served over LDS: HCM with RDS over ADS, the ext_proc
   * filter and the router, as in {@code envoy/envoy.yaml}'s static listener.
   *
   * @param enabled whether to serve it (the shipped bootstrap defines its listener statically)
   * @param name listener name
   * @param address bind address inside Envoy
   * @param port listener port inside Envoy
   * @param extProcClusterName the static cluster in the bootstrap that points at ext-proc
   * @param extProcMessageTimeout ext_proc {@code message_timeout} for messages that are not held
   * @param streamIdleTimeout HCM {@code stream_idle_timeout}; must exceed the longest hold
   * @param perConnectionBufferLimitBytes largest BUFFERED request body before Envoy answers 413
   */
  public record StandaloneListener(
      boolean enabled,
      String name,
      String address,
      int port,
      String extProcClusterName,
      Duration extProcMessageTimeout,
      Duration streamIdleTimeout,
      int perConnectionBufferLimitBytes) {
    public StandaloneListener {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(address, "address");
      Objects.requireNonNull(extProcClusterName, "extProcClusterName");
      Objects.requireNonNull(extProcMessageTimeout, "extProcMessageTimeout");
      Objects.requireNonNull(streamIdleTimeout, "streamIdleTimeout");
    }

    public static StandaloneListener defaults() {
      return new StandaloneListener(
          false,
          "http",
          "0.0.0.0",
          8080,
          "ext_proc_cluster",
          Duration.ofSeconds(10),
          Duration.ofSeconds(1800),
          16 * 1024 * 1024);
    }

    public StandaloneListener withEnabled(boolean enabled) {
      return new StandaloneListener(
          enabled,
          name,
          address,
          port,
          extProcClusterName,
          extProcMessageTimeout,
          streamIdleTimeout,
          perConnectionBufferLimitBytes);
    }
  }

  public XdsConfig {
    Objects.requireNonNull(bindAddress, "bindAddress");
    Objects.requireNonNull(routeConfigName, "routeConfigName");
    Objects.requireNonNull(routingHeader, "routingHeader");
    Objects.requireNonNull(clusterConnectTimeout, "clusterConnectTimeout");
    Objects.requireNonNull(upstreamProtocol, "upstreamProtocol");
    Objects.requireNonNull(lbPolicy, "lbPolicy");
    Objects.requireNonNull(routeIdleTimeout, "routeIdleTimeout");
    Objects.requireNonNull(longestHold, "longestHold");
    Objects.requireNonNull(withoutEnvoys, "withoutEnvoys");
    Objects.requireNonNull(standaloneListener, "standaloneListener");
  }

  public static XdsConfig defaults() {
    return new XdsConfig(
        "0.0.0.0",
        18000,
        DEFAULT_ROUTE_CONFIG_NAME,
        DEFAULT_ROUTING_HEADER,
        Duration.ofSeconds(5),
        UpstreamProtocol.HTTP1,
        LbPolicy.LEAST_REQUEST,
        100_000,
        Duration.ofSeconds(3600),
        DEFAULT_LONGEST_HOLD,
        WithoutEnvoys.NOT_ROUTABLE,
        StandaloneListener.defaults());
  }

  /**
   * Checks every setting and names the key of each violation.
   *
   * @return this, for chaining
   * @throws IllegalArgumentException listing all violations
   */
  public XdsConfig validate() {
    List<String> errors = new ArrayList<>();
    if (bindAddress.isBlank()) {
      errors.add("bindAddress must not be blank");
    }
    if (port < 0 || port > 65535) {
      errors.add("port = " + port + ", must be in 0..65535");
    }
    if (routeConfigName.isBlank()) {
      errors.add("routeConfigName must not be blank");
    }
    if (!routingHeader.matches("[a-z0-9-]+")) {
      errors.add("routingHeader = \"" + routingHeader + "\", must be a lower-case header name");
    }
    if (clusterConnectTimeout.isNegative() || clusterConnectTimeout.isZero()) {
      errors.add("clusterConnectTimeout = " + clusterConnectTimeout + ", must be positive");
    }
    if (maxRequestsPerCluster < 1) {
      errors.add("maxRequestsPerCluster = " + maxRequestsPerCluster + ", must be at least 1");
    }
    if (longestHold.isNegative() || longestHold.isZero()) {
      errors.add("longestHold = " + longestHold + ", must be positive");
    }
    if (longestHold.compareTo(ENVOY_MAX_MESSAGE_TIMEOUT_CAP) > 0) {
      errors.add(
          "longestHold = "
              + longestHold
              + ", must be at most "
              + ENVOY_MAX_MESSAGE_TIMEOUT_CAP
              + " (Envoy's cap on max_message_timeout)");
    }
    if (routeIdleTimeout.compareTo(longestHold) <= 0) {
      errors.add(
          "routeIdleTimeout = "
              + routeIdleTimeout
              + ", must be longer than longestHold = "
              + longestHold
              + " (the route's idle timeout also runs while a request is held)");
    }
    if (standaloneListener.enabled()) {
      if (standaloneListener.port() < 1 || standaloneListener.port() > 65535) {
        errors.add(
            "standaloneListener.port = " + standaloneListener.port() + ", must be in 1..65535");
      }
      if (standaloneListener.streamIdleTimeout().compareTo(longestHold) <= 0) {
        errors.add(
            "standaloneListener.streamIdleTimeout = "
                + standaloneListener.streamIdleTimeout()
                + ", must be longer than longestHold = "
                + longestHold
                + " (Envoy answers 408 to a hold that outlives it)");
      }
      if (standaloneListener.extProcMessageTimeout().isNegative()
          || standaloneListener.extProcMessageTimeout().isZero()) {
        errors.add(
            "standaloneListener.extProcMessageTimeout = "
                + standaloneListener.extProcMessageTimeout()
                + ", must be positive");
      }
      if (standaloneListener.perConnectionBufferLimitBytes() < 1) {
        errors.add(
            "standaloneListener.perConnectionBufferLimitBytes = "
                + standaloneListener.perConnectionBufferLimitBytes()
                + ", must be positive");
      }
    }
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException("invalid xDS config: " + String.join("; ", errors));
    }
    return this;
  }

  /** A copy bound to the given address and port (tests use 127.0.0.1 and 0). */
  public XdsConfig withListenAddress(String bindAddress, int port) {
    return new XdsConfig(
        bindAddress,
        port,
        routeConfigName,
        routingHeader,
        clusterConnectTimeout,
        upstreamProtocol,
        lbPolicy,
        maxRequestsPerCluster,
        routeIdleTimeout,
        longestHold,
        withoutEnvoys,
        standaloneListener);
  }

  public XdsConfig withLbPolicy(LbPolicy lbPolicy) {
    return new XdsConfig(
        bindAddress,
        port,
        routeConfigName,
        routingHeader,
        clusterConnectTimeout,
        upstreamProtocol,
        lbPolicy,
        maxRequestsPerCluster,
        routeIdleTimeout,
        longestHold,
        withoutEnvoys,
        standaloneListener);
  }

  public XdsConfig withWithoutEnvoys(WithoutEnvoys withoutEnvoys) {
    return new XdsConfig(
        bindAddress,
        port,
        routeConfigName,
        routingHeader,
        clusterConnectTimeout,
        upstreamProtocol,
        lbPolicy,
        maxRequestsPerCluster,
        routeIdleTimeout,
        longestHold,
        withoutEnvoys,
        standaloneListener);
  }

  public XdsConfig withStandaloneListener(StandaloneListener standaloneListener) {
    return new XdsConfig(
        bindAddress,
        port,
        routeConfigName,
        routingHeader,
        clusterConnectTimeout,
        upstreamProtocol,
        lbPolicy,
        maxRequestsPerCluster,
        routeIdleTimeout,
        longestHold,
        withoutEnvoys,
        standaloneListener);
  }
}
