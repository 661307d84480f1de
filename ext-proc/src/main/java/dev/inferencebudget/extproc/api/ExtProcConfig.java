package dev.inferencebudget.extproc.api;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything the ext_proc process is configured with. Defaults live in {@link #defaults()} only;
 * {@link #validate()} names the offending key.
 *
 * @param bindAddress address the gRPC and metrics servers listen on
 * @param grpcPort port of the ExternalProcessor service (0 picks a free port)
 * @param metricsPort port of the Prometheus endpoint (0 picks a free port, -1 disables it)
 * @param replicaName this replica's name in activations and load reports (the pod name)
 * @param routingMode how a request is pointed at its model
 * @param routingHeader header carrying the model key in {@link RoutingMode#ROUTING_HEADER} mode
 * @param maxRequestBodyBytes largest request body accepted; the gRPC inbound message limit is
 *     raised to cover it (Envoy's BUFFERED limit should be at most this)
 * @param maxMessageTimeout Envoy's {@code max_message_timeout}: the longest {@code
 *     override_message_timeout} Envoy accepts (zero: Envoy ignores overrides)
 * @param holdOverrideTimeout the {@code override_message_timeout} sent when a request starts
 *     waiting (held or queued); at most {@code maxMessageTimeout}
 * @param tenantHeaderDefault header naming the tenant key when a model's policy names none
 * @param priorityHeader header carrying a request priority (a trusted gateway sets it), empty: off
 * @param tokenizerDirectory where Hugging Face tokenizers live ({@code
 *     <dir>/<name>/tokenizer.json})
 */
public record ExtProcConfig(
    String bindAddress,
    int grpcPort,
    int metricsPort,
    String replicaName,
    RoutingMode routingMode,
    String routingHeader,
    int maxRequestBodyBytes,
    Duration maxMessageTimeout,
    Duration holdOverrideTimeout,
    String tenantHeaderDefault,
    String priorityHeader,
    Optional<Path> tokenizerDirectory) {

  /** Header read by an ORIGINAL_DST cluster in endpoint-picker mode (spec rule 24). */
  public static final String DESTINATION_ENDPOINT_HEADER = "x-gateway-destination-endpoint";

  /** Dynamic metadata namespace the Gateway API Inference Extension reads. */
  public static final String ENVOY_LB_NAMESPACE = "envoy.lb";

  /** Envoy caps any message timeout at one hour (spec rule 13). */
  public static final Duration ENVOY_TIMEOUT_CAP = Duration.ofSeconds(3600);

  /** How the server tells Envoy where a request goes. */
  public enum RoutingMode {
    /** Set {@link #routingHeader} to the model key and clear the route cache. */
    ROUTING_HEADER,
    /** Set {@code x-gateway-destination-endpoint} to the least-loaded ready endpoint. */
    ENDPOINT_PICKER
  }

  public ExtProcConfig {
    Objects.requireNonNull(bindAddress, "bindAddress");
    Objects.requireNonNull(replicaName, "replicaName");
    Objects.requireNonNull(routingMode, "routingMode");
    Objects.requireNonNull(routingHeader, "routingHeader");
    Objects.requireNonNull(maxMessageTimeout, "maxMessageTimeout");
    Objects.requireNonNull(holdOverrideTimeout, "holdOverrideTimeout");
    Objects.requireNonNull(tenantHeaderDefault, "tenantHeaderDefault");
    Objects.requireNonNull(priorityHeader, "priorityHeader");
    Objects.requireNonNull(tokenizerDirectory, "tokenizerDirectory");
  }

  /** Every default in one place. */
  public static ExtProcConfig defaults() {
    return new ExtProcConfig(
        "0.0.0.0",
        9002,
        9090,
        "ext-proc",
        RoutingMode.ROUTING_HEADER,
        "x-ibc-model",
        16 * 1024 * 1024,
        Duration.ofSeconds(900),
        Duration.ofSeconds(900),
        "authorization",
        "",
        Optional.empty());
  }

  /** The problems of this configuration, each naming its key; empty when valid. */
  public List<String> problems() {
    List<String> problems = new ArrayList<>();
    if (grpcPort < 0 || grpcPort > 65535) {
      problems.add("grpcPort = " + grpcPort + ", must be within 0..65535");
    }
    if (metricsPort < -1 || metricsPort > 65535) {
      problems.add("metricsPort = " + metricsPort + ", must be within -1..65535");
    }
    if (replicaName.isBlank()) {
      problems.add("replicaName is blank");
    }
    if (!isHeaderName(routingHeader)) {
      problems.add("routingHeader = '" + routingHeader + "', must be a lowercase header name");
    }
    if (routingHeader.startsWith("x-envoy-")) {
      problems.add("routingHeader = '" + routingHeader + "', Envoy ignores x-envoy-* mutations");
    }
    if (!isHeaderName(tenantHeaderDefault)) {
      problems.add(
          "tenantHeaderDefault = '" + tenantHeaderDefault + "', must be a lowercase header name");
    }
    if (!priorityHeader.isEmpty() && !isHeaderName(priorityHeader)) {
      problems.add("priorityHeader = '" + priorityHeader + "', must be empty or a header name");
    }
    if (maxRequestBodyBytes < 1024) {
      problems.add("maxRequestBodyBytes = " + maxRequestBodyBytes + ", must be at least 1024");
    }
    if (maxMessageTimeout.isNegative() || maxMessageTimeout.compareTo(ENVOY_TIMEOUT_CAP) > 0) {
      problems.add("maxMessageTimeout = " + maxMessageTimeout + ", must be within 0..3600s");
    }
    if (holdOverrideTimeout.isNegative()) {
      problems.add("holdOverrideTimeout = " + holdOverrideTimeout + ", must not be negative");
    }
    if (holdOverrideTimeout.compareTo(maxMessageTimeout) > 0) {
      problems.add(
          "holdOverrideTimeout = "
              + holdOverrideTimeout
              + ", must not exceed maxMessageTimeout = "
              + maxMessageTimeout
              + " (Envoy ignores a larger override)");
    }
    if (!maxMessageTimeout.isZero() && maxMessageTimeout.compareTo(Duration.ofMillis(1)) < 0) {
      problems.add("maxMessageTimeout = " + maxMessageTimeout + ", must be 0 or at least 1ms");
    }
    return problems;
  }

  /** Returns this configuration, or throws naming every invalid key. */
  public ExtProcConfig validate() {
    List<String> problems = problems();
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("invalid ext-proc configuration: " + problems);
    }
    return this;
  }

  public ExtProcConfig withGrpcPort(int port) {
    return new ExtProcConfig(
        bindAddress,
        port,
        metricsPort,
        replicaName,
        routingMode,
        routingHeader,
        maxRequestBodyBytes,
        maxMessageTimeout,
        holdOverrideTimeout,
        tenantHeaderDefault,
        priorityHeader,
        tokenizerDirectory);
  }

  public ExtProcConfig withMetricsPort(int port) {
    return new ExtProcConfig(
        bindAddress,
        grpcPort,
        port,
        replicaName,
        routingMode,
        routingHeader,
        maxRequestBodyBytes,
        maxMessageTimeout,
        holdOverrideTimeout,
        tenantHeaderDefault,
        priorityHeader,
        tokenizerDirectory);
  }

  public ExtProcConfig withReplicaName(String name) {
    return new ExtProcConfig(
        bindAddress,
        grpcPort,
        metricsPort,
        name,
        routingMode,
        routingHeader,
        maxRequestBodyBytes,
        maxMessageTimeout,
        holdOverrideTimeout,
        tenantHeaderDefault,
        priorityHeader,
        tokenizerDirectory);
  }

  public ExtProcConfig withRoutingMode(RoutingMode mode) {
    return new ExtProcConfig(
        bindAddress,
        grpcPort,
        metricsPort,
        replicaName,
        mode,
        routingHeader,
        maxRequestBodyBytes,
        maxMessageTimeout,
        holdOverrideTimeout,
        tenantHeaderDefault,
        priorityHeader,
        tokenizerDirectory);
  }

  public ExtProcConfig withMaxRequestBodyBytes(int bytes) {
    return new ExtProcConfig(
        bindAddress,
        grpcPort,
        metricsPort,
        replicaName,
        routingMode,
        routingHeader,
        bytes,
        maxMessageTimeout,
        holdOverrideTimeout,
        tenantHeaderDefault,
        priorityHeader,
        tokenizerDirectory);
  }

  public ExtProcConfig withTimeouts(Duration maxMessage, Duration holdOverride) {
    return new ExtProcConfig(
        bindAddress,
        grpcPort,
        metricsPort,
        replicaName,
        routingMode,
        routingHeader,
        maxRequestBodyBytes,
        maxMessage,
        holdOverride,
        tenantHeaderDefault,
        priorityHeader,
        tokenizerDirectory);
  }

  public ExtProcConfig withPriorityHeader(String header) {
    return new ExtProcConfig(
        bindAddress,
        grpcPort,
        metricsPort,
        replicaName,
        routingMode,
        routingHeader,
        maxRequestBodyBytes,
        maxMessageTimeout,
        holdOverrideTimeout,
        tenantHeaderDefault,
        header,
        tokenizerDirectory);
  }

  public ExtProcConfig withTokenizerDirectory(Path directory) {
    return new ExtProcConfig(
        bindAddress,
        grpcPort,
        metricsPort,
        replicaName,
        routingMode,
        routingHeader,
        maxRequestBodyBytes,
        maxMessageTimeout,
        holdOverrideTimeout,
        tenantHeaderDefault,
        priorityHeader,
        Optional.of(directory));
  }

  private static boolean isHeaderName(String name) {
    return !name.isEmpty()
        && name.chars()
            .allMatch(
                c -> c == '-' || c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
  }
}
