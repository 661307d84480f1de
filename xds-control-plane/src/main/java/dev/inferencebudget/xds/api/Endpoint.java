package dev.inferencebudget.xds.api;

import com.google.common.net.InetAddresses;
import java.util.Objects;

/**
 * One replica of a model as the controller observes it (a pod IP and the serving port).
 *
 * @param address an IP address (pods are addressed by IP; Envoy does not resolve EDS hostnames)
 * @param port the serving port, 1..65535
 * @param ready whether the replica passes its readiness probe; only ready replicas are published
 */
public record Endpoint(String address, int port, boolean ready) {
  public Endpoint {
    Objects.requireNonNull(address, "address");
    // Envoy takes only IP literals in EDS socket addresses and NACKs the whole assignment otherwise
    if (!InetAddresses.isInetAddress(address)) {
      throw new IllegalArgumentException(
          "endpoint address = \"" + address + "\", must be an IP address");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("endpoint port = " + port + ", must be in 1..65535");
    }
  }

  public static Endpoint ready(String address, int port) {
    return new Endpoint(address, port, true);
  }

  public static Endpoint notReady(String address, int port) {
    return new Endpoint(address, port, false);
  }
}
