package dev.inferencebudget.harness.sandbox;

import java.util.Objects;
import java.util.Optional;

/**
 * A data plane other than the Envoy stand-in: a real Envoy, run as a process ({@link
 * SandboxConfig#envoyBinary()}) or by the caller (the Testcontainers scenarios run the {@code
 * envoyproxy/envoy} image). It is started once the controller's xDS server and ext-proc are bound
 * (see {@link Factory}), connects to the xDS server over ADS by itself, and is closed with the
 * sandbox. The sandbox waits until it has synced over ADS, and fails early if {@link #failure()}
 * reports that it stopped.
 */
public interface DataPlane extends AutoCloseable {

  /** The port of its OpenAI-facing listener on the sandbox's host. */
  int port();

  /**
   * Why it stopped, when it did (e.g. "envoy exited with code 1; its log: /tmp/.../envoy.log");
   * empty while it runs.
   */
  default Optional<String> failure() {
    return Optional.empty();
  }

  /** Stops it; failures are the data plane's to log. */
  @Override
  void close();

  /**
   * Where the data plane must listen and what it connects to.
   *
   * @param host the loopback address every component binds to
   * @param dataPlanePort the configured listener port ({@link SandboxConfig#dataPlanePort()}); 0:
   *     the data plane picks one and reports it through {@link DataPlane#port()}
   * @param xdsPort the controller's bound ADS port
   * @param extProcPort ext-proc's bound gRPC port
   */
  record Ports(String host, int dataPlanePort, int xdsPort, int extProcPort) {
    public Ports {
      Objects.requireNonNull(host, "host");
    }

    public Ports withDataPlanePort(int v) {
      return new Ports(host, v, xdsPort, extProcPort);
    }

    /**
     * The standalone bootstrap ({@code envoy/envoy.yaml}) with the Helm Services' addresses ({@code
     * ibc-controller:18000}, {@code ext-proc:9002}) and the listener ({@code 0.0.0.0:8080})
     * replaced by these.
     *
     * @throws IllegalArgumentException if the bootstrap does not contain each of them exactly once
     */
    public String rewriteEnvoyBootstrap(String bootstrap) {
      String out = bootstrap;
      out =
          replaceOnce(
              out,
              "{address: ibc-controller, port_value: 18000}",
              "{address: " + host + ", port_value: " + xdsPort + "}");
      out =
          replaceOnce(
              out,
              "{address: ext-proc, port_value: 9002}",
              "{address: " + host + ", port_value: " + extProcPort + "}");
      out =
          replaceOnce(
              out,
              "{address: 0.0.0.0, port_value: 8080}",
              "{address: " + host + ", port_value: " + dataPlanePort + "}");
      return out;
    }

    private static String replaceOnce(String text, String target, String replacement) {
      int at = text.indexOf(target);
      if (at < 0 || text.indexOf(target, at + 1) >= 0) {
        throw new IllegalArgumentException(
            "the Envoy bootstrap must contain " + target + " exactly once");
      }
      return text.replace(target, replacement);
    }
  }

  /** Starts a data plane for the sandbox's ports. */
  @FunctionalInterface
  interface Factory {
    DataPlane start(Ports ports);
  }
}
