package dev.inferencebudget.harness.xds;

import com.google.protobuf.util.Durations;
import dev.inferencebudget.harness.envoy.Cluster;
import dev.inferencebudget.harness.envoy.ClusterManager;
import dev.inferencebudget.harness.envoy.Route;
import dev.inferencebudget.harness.envoy.RouteTable;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Keeps an Envoy stand-in's route table and clusters equal to what an {@link AdsClient} accepted,
 * as Envoy applies CDS, EDS and RDS updates: every EDS cluster becomes a stand-in cluster with its
 * HEALTHY endpoints, and the route table named {@code routeConfigName} replaces the stand-in's
 * routes (RDS semantics). Clusters the stand-in was given otherwise (ext_proc, ORIGINAL_DST) are
 * left alone.
 *
 * <p>The stand-in's routes support a path prefix and one exact header match, forwarding to a
 * cluster or answering directly (the control plane's 404 fallback); other routes are skipped.
 */
public final class StandInXdsFeed implements AutoCloseable {

  private final AdsClient client;
  private final String routeConfigName;
  private final RouteTable routes;
  private final ClusterManager clusters;
  private final Consumer<ReceivedResponse> listener = this::onResponse;
  private final Set<String> fedClusters = new HashSet<>();

  private StandInXdsFeed(
      AdsClient client, String routeConfigName, RouteTable routes, ClusterManager clusters) {
    this.client = Objects.requireNonNull(client, "client");
    this.routeConfigName = Objects.requireNonNull(routeConfigName, "routeConfigName");
    this.routes = Objects.requireNonNull(routes, "routes");
    this.clusters = Objects.requireNonNull(clusters, "clusters");
  }

  /** Starts feeding; applies what the client has accepted so far at once. */
  public static StandInXdsFeed attach(
      AdsClient client, String routeConfigName, RouteTable routes, ClusterManager clusters) {
    StandInXdsFeed feed = new StandInXdsFeed(client, routeConfigName, routes, clusters);
    client.addListener(feed.listener);
    feed.apply();
    return feed;
  }

  @Override
  public void close() {
    client.removeListener(listener);
  }

  private void onResponse(ReceivedResponse response) {
    if (response.accepted()) {
      apply();
    }
  }

  private synchronized void apply() {
    Map<String, io.envoyproxy.envoy.config.cluster.v3.Cluster> accepted = client.clusters();
    Map<String, ClusterLoadAssignment> assignments = client.endpoints();
    for (var cluster : accepted.values()) {
      String service = cluster.getEdsClusterConfig().getServiceName();
      ClusterLoadAssignment assignment =
          assignments.get(service.isEmpty() ? cluster.getName() : service);
      clusters.update(Cluster.ofEndpoints(cluster.getName(), healthy(assignment)));
    }
    for (String gone : fedClusters) {
      if (!accepted.containsKey(gone)) {
        clusters.remove(gone);
      }
    }
    fedClusters.clear();
    fedClusters.addAll(accepted.keySet());

    RouteConfiguration table = client.routes().get(routeConfigName);
    if (table != null) {
      routes.update(convert(table));
    }
  }

  private static List<Cluster.Endpoint> healthy(ClusterLoadAssignment assignment) {
    List<Cluster.Endpoint> result = new ArrayList<>();
    if (assignment == null) {
      return result;
    }
    for (LocalityLbEndpoints locality : assignment.getEndpointsList()) {
      for (LbEndpoint endpoint : locality.getLbEndpointsList()) {
        if (endpoint.getHealthStatus() == HealthStatus.HEALTHY
            || endpoint.getHealthStatus() == HealthStatus.UNKNOWN) {
          var socket = endpoint.getEndpoint().getAddress().getSocketAddress();
          result.add(new Cluster.Endpoint(socket.getAddress(), socket.getPortValue()));
        }
      }
    }
    return result;
  }

  /** The first virtual host's routes that the stand-in can express, in order. */
  static List<Route> convert(RouteConfiguration table) {
    List<Route> result = new ArrayList<>();
    if (table.getVirtualHostsCount() == 0) {
      return result;
    }
    VirtualHost host = table.getVirtualHosts(0);
    for (var route : host.getRoutesList()) {
      if (route.hasDirectResponse()
          && route.getMatch().hasPrefix()
          && route.getMatch().getHeadersCount() == 0) {
        result.add(
            Route.direct(
                route.getName(),
                route.getMatch().getPrefix(),
                route.getDirectResponse().getStatus(),
                route.getDirectResponse().getBody().getInlineString()));
        continue;
      }
      if (!route.hasRoute()
          || route.getRoute().getCluster().isEmpty()
          || !route.getMatch().hasPrefix()
          || route.getMatch().getHeadersCount() > 1) {
        continue;
      }
      Optional<String> headerName = Optional.empty();
      String headerValue = "";
      if (route.getMatch().getHeadersCount() == 1) {
        HeaderMatcher matcher = route.getMatch().getHeaders(0);
        if (!matcher.hasStringMatch()
            || !matcher.getStringMatch().hasExact()
            || matcher.getInvertMatch()) {
          continue;
        }
        headerName = Optional.of(matcher.getName());
        headerValue = matcher.getStringMatch().getExact();
      }
      var action = route.getRoute();
      result.add(
          new Route(
              route.getName(),
              route.getMatch().getPrefix(),
              headerName,
              headerValue,
              action.getCluster(),
              action.hasTimeout()
                  ? Duration.ofMillis(Durations.toMillis(action.getTimeout()))
                  : Route.DEFAULT_TIMEOUT,
              action.hasIdleTimeout()
                  ? Optional.of(Duration.ofMillis(Durations.toMillis(action.getIdleTimeout())))
                  : Optional.empty()));
    }
    return result;
  }
}
