package dev.inferencebudget.xds.server;

import io.envoyproxy.controlplane.cache.Resources;
import java.util.List;

/** The xDS resource types this server serves, and how the SotW protocol treats each. */
final class TypeUrls {
  static final String CLUSTER = Resources.V3.CLUSTER_TYPE_URL;
  static final String ENDPOINT = Resources.V3.ENDPOINT_TYPE_URL;
  static final String LISTENER = Resources.V3.LISTENER_TYPE_URL;
  static final String ROUTE = Resources.V3.ROUTE_TYPE_URL;

  /** Make-before-break order: clusters before their endpoints, listeners before their routes. */
  static final List<String> IN_ORDER = List.of(CLUSTER, ENDPOINT, LISTENER, ROUTE);

  private TypeUrls() {}

  /**
   * In state-of-the-world xDS, every Listener and Cluster response carries the client's whole
   * subscription (a missing one is deleted); RouteConfiguration and ClusterLoadAssignment responses
   * may carry only the resources that changed.
   */
  static boolean isFullState(String typeUrl) {
    return CLUSTER.equals(typeUrl) || LISTENER.equals(typeUrl);
  }

  /** A short label for logs and metrics ("cluster", "endpoint", ...). */
  static String label(String typeUrl) {
    if (CLUSTER.equals(typeUrl)) {
      return "cluster";
    } else if (ENDPOINT.equals(typeUrl)) {
      return "endpoint";
    } else if (LISTENER.equals(typeUrl)) {
      return "listener";
    } else if (ROUTE.equals(typeUrl)) {
      return "route";
    }
    return "other";
  }
}
