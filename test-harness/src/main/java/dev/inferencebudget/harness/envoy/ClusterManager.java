package dev.inferencebudget.harness.envoy;

import io.vertx.core.MultiMap;
import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * The clusters and their endpoints, updatable at runtime like CDS/EDS updates. Host selection
 * follows Envoy: round robin over a static cluster's endpoints; for ORIGINAL_DST the first value of
 * the configured header, a literal {@code ip:port} (rule 24).
 */
public final class ClusterManager {
  // A literal IPv4 address and port, or a bracketed IPv6 literal and port: Envoy parses the header
  // value as an IP
  // address with port (no DNS names), so anything else means "no host" (rule 24).
  private static final Pattern IPV4_PORT =
      Pattern.compile("^(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3}):(\\d{1,5})$");
  private static final Pattern IPV6_PORT = Pattern.compile("^\\[([0-9a-fA-F:.]+)\\]:(\\d{1,5})$");

  private final Map<String, Cluster> clusters = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> roundRobin = new ConcurrentHashMap<>();

  /** Adds or replaces a cluster (a CDS or EDS update of one cluster). */
  public void update(Cluster cluster) {
    Objects.requireNonNull(cluster, "cluster");
    clusters.put(cluster.name(), cluster);
  }

  /** Replaces the whole set of clusters (a state-of-the-world CDS update). */
  public void updateAll(Collection<Cluster> all) {
    Map<String, Cluster> next = new ConcurrentHashMap<>();
    for (Cluster c : all) {
      next.put(c.name(), c);
    }
    clusters.keySet().retainAll(next.keySet());
    clusters.putAll(next);
  }

  public void remove(String name) {
    clusters.remove(name);
  }

  public Optional<Cluster> get(String name) {
    return Optional.ofNullable(clusters.get(name));
  }

  /** The host for one request, or empty for "no healthy upstream". */
  Optional<Cluster.Endpoint> chooseHost(Cluster cluster, MultiMap requestHeaders) {
    if (cluster.type() == Cluster.Type.ORIGINAL_DST) {
      // Rule 24: first value only; not sanitised by Envoy.
      String value = requestHeaders.get(cluster.originalDstHeader());
      return value == null ? Optional.empty() : parseLiteralAddress(value.trim());
    }
    if (cluster.endpoints().isEmpty()) {
      return Optional.empty();
    }
    long n = roundRobin.computeIfAbsent(cluster.name(), k -> new AtomicLong()).getAndIncrement();
    return Optional.of(cluster.endpoints().get((int) Math.floorMod(n, cluster.endpoints().size())));
  }

  static Optional<Cluster.Endpoint> parseLiteralAddress(String value) {
    var v4 = IPV4_PORT.matcher(value);
    if (v4.matches()) {
      for (int i = 1; i <= 4; i++) {
        if (Integer.parseInt(v4.group(i)) > 255) {
          return Optional.empty();
        }
      }
      return port(value.substring(0, value.lastIndexOf(':')), v4.group(5));
    }
    var v6 = IPV6_PORT.matcher(value);
    if (v6.matches() && v6.group(1).contains(":")) {
      return port("[" + v6.group(1) + "]", v6.group(2));
    }
    return Optional.empty();
  }

  private static Optional<Cluster.Endpoint> port(String host, String port) {
    int p = Integer.parseInt(port);
    return p >= 1 && p <= 65535 ? Optional.of(new Cluster.Endpoint(host, p)) : Optional.empty();
  }
}
