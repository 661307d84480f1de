package dev.inferencebudget.harness.envoy;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The listener, HTTP connection manager and ext_proc cluster settings of one stand-in (the static
 * part of the spec's bootstrap). Routes and clusters are dynamic and live in {@link RouteTable} and
 * {@link ClusterManager}.
 *
 * @param listenHost the downstream listener address (loopback in tests)
 * @param listenPort the downstream port; 0 picks a free one
 * @param perConnectionBufferLimitBytes the listener's buffer limit: a BUFFERED request body over it
 *     gets 413 without consulting the server (rule 8; Envoy's default is 1 MiB)
 * @param streamIdleTimeout the HCM's {@code stream_idle_timeout}, not reset by ext_proc traffic
 *     (rule 15; default 5 min); zero disables it
 * @param extProc the ext_proc filter; empty means the filter chain is the router alone
 * @param extProcAddress where the ext_proc server listens (the ext_proc cluster's single endpoint)
 * @param extProcMaxInboundMessageBytes the largest ProcessingResponse the stand-in accepts over
 *     gRPC
 */
public record EnvoyStandInConfig(
    String listenHost,
    int listenPort,
    long perConnectionBufferLimitBytes,
    Duration streamIdleTimeout,
    Optional<ExtProcFilterConfig> extProc,
    Optional<InetSocketAddress> extProcAddress,
    int extProcMaxInboundMessageBytes) {

  public EnvoyStandInConfig {
    Objects.requireNonNull(listenHost, "listenHost");
    Objects.requireNonNull(streamIdleTimeout, "streamIdleTimeout");
    Objects.requireNonNull(extProc, "extProc");
    Objects.requireNonNull(extProcAddress, "extProcAddress");
    if (listenPort < 0 || listenPort > 65535) {
      throw new IllegalArgumentException("listenPort = " + listenPort + ", must be in [0, 65535]");
    }
    if (perConnectionBufferLimitBytes < 1) {
      throw new IllegalArgumentException(
          "perConnectionBufferLimitBytes = " + perConnectionBufferLimitBytes + ", must be >= 1");
    }
    if (streamIdleTimeout.isNegative()) {
      throw new IllegalArgumentException(
          "streamIdleTimeout = " + streamIdleTimeout + ", must be >= 0");
    }
    if (extProc.isPresent() && extProcAddress.isEmpty()) {
      throw new IllegalArgumentException("extProc is configured, so extProcAddress is required");
    }
    if (extProcMaxInboundMessageBytes < 1) {
      throw new IllegalArgumentException(
          "extProcMaxInboundMessageBytes = " + extProcMaxInboundMessageBytes + ", must be >= 1");
    }
  }

  /**
   * Loopback, a free port, Envoy's defaults (1 MiB buffer limit, 5 min idle timeout), no ext_proc
   * filter.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Builder with Envoy's defaults. */
  public static final class Builder {
    private String listenHost = "127.0.0.1";
    private int listenPort = 0;
    private long perConnectionBufferLimitBytes = 1024 * 1024;
    private Duration streamIdleTimeout = Duration.ofMinutes(5);
    private ExtProcFilterConfig extProc;
    private InetSocketAddress extProcAddress;
    private int extProcMaxInboundMessageBytes = 64 * 1024 * 1024;

    private Builder() {}

    public Builder listenHost(String v) {
      listenHost = v;
      return this;
    }

    public Builder listenPort(int v) {
      listenPort = v;
      return this;
    }

    public Builder perConnectionBufferLimitBytes(long v) {
      perConnectionBufferLimitBytes = v;
      return this;
    }

    public Builder streamIdleTimeout(Duration v) {
      streamIdleTimeout = v;
      return this;
    }

    /** Installs the ext_proc filter, talking to the server at {@code address}. */
    public Builder extProc(ExtProcFilterConfig config, InetSocketAddress address) {
      extProc = Objects.requireNonNull(config, "config");
      extProcAddress = Objects.requireNonNull(address, "address");
      return this;
    }

    public Builder extProcMaxInboundMessageBytes(int v) {
      extProcMaxInboundMessageBytes = v;
      return this;
    }

    public EnvoyStandInConfig build() {
      return new EnvoyStandInConfig(
          listenHost,
          listenPort,
          perConnectionBufferLimitBytes,
          streamIdleTimeout,
          Optional.ofNullable(extProc),
          Optional.ofNullable(extProcAddress),
          extProcMaxInboundMessageBytes);
    }
  }
}
