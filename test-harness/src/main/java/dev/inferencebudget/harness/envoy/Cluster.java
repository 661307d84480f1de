package dev.inferencebudget.harness.envoy;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * An upstream cluster: static endpoints picked round robin, or an ORIGINAL_DST cluster that takes
 * the host from a request header (rule 24).
 *
 * @param name the name routes refer to
 * @param type STATIC (endpoints) or ORIGINAL_DST (header)
 * @param endpoints the static endpoints, empty for ORIGINAL_DST
 * @param originalDstHeader for ORIGINAL_DST, the header naming the host ({@code
 *     x-gateway-destination-endpoint})
 */
public record Cluster(String name, Type type, List<Endpoint> endpoints, String originalDstHeader) {

  /** The header GIE's bootstrap names in {@code original_dst_lb_config} (rule 24). */
  public static final String DESTINATION_ENDPOINT_HEADER = "x-gateway-destination-endpoint";

  /** The cluster types the stand-in supports. */
  public enum Type {
    /** Static or EDS-fed endpoints, round robin. */
    STATIC,
    /** {@code type: ORIGINAL_DST, lb_policy: CLUSTER_PROVIDED, use_http_header: true}. */
    ORIGINAL_DST
  }

  /** One upstream address. */
  public record Endpoint(String host, int port) {
    public Endpoint {
      Objects.requireNonNull(host, "host");
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port = " + port + ", must be in [1, 65535]");
      }
    }

    @Override
    public String toString() {
      return host + ":" + port;
    }
  }

  public Cluster {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    endpoints = List.copyOf(endpoints);
    Objects.requireNonNull(originalDstHeader, "originalDstHeader");
    originalDstHeader = originalDstHeader.toLowerCase(Locale.ROOT);
    if (type == Type.ORIGINAL_DST && originalDstHeader.isEmpty()) {
      throw new IllegalArgumentException("cluster " + name + ": ORIGINAL_DST needs a header name");
    }
  }

  /** A cluster with static endpoints. */
  public static Cluster ofEndpoints(String name, List<Endpoint> endpoints) {
    return new Cluster(name, Type.STATIC, endpoints, "");
  }

  /** GIE's {@code original_destination_cluster} reading {@code x-gateway-destination-endpoint}. */
  public static Cluster originalDestination(String name) {
    return new Cluster(name, Type.ORIGINAL_DST, List.of(), DESTINATION_ENDPOINT_HEADER);
  }
}
