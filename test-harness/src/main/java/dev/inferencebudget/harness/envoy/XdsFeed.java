package dev.inferencebudget.harness.envoy;

import dev.inferencebudget.harness.xds.AdsClient;
import io.envoyproxy.envoy.config.cluster.v3.Cluster.DiscoveryType;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Feeds a stand-in's {@link RouteTable} and {@link ClusterManager} from xDS resources, as Envoy in
 * standalone mode applies RDS, CDS and EDS. Only what the stand-in can route is converted (see
 * {@link #toRoutes}); the rest is reported, not silently approximated.
 */
public final class XdsFeed {
  private XdsFeed() {}

  /** What one conversion produced and what it had to leave out. */
  public record Applied(List<Route> routes, List<Cluster> clusters, List<String> skipped) {
    public Applied {
      routes = List.copyOf(routes);
      clusters = List.copyOf(clusters);
      skipped = List.copyOf(skipped);
    }
  }

  /**
   * Keeps {@code envoy} in step with what {@code ads} has accepted: re-applies the route
   * configuration named {@code routeConfigName} and every cluster after each response. Returns a
   * handle that stops the feed.
   */
  public static AutoCloseable attach(AdsClient ads, EnvoyStandIn envoy, String routeConfigName) {
    Objects.requireNonNull(ads, "ads");
    Objects.requireNonNull(envoy, "envoy");
    Objects.requireNonNull(routeConfigName, "routeConfigName");
    java.util.function.Consumer<dev.inferencebudget.harness.xds.ReceivedResponse> listener =
        response -> sync(ads, envoy, routeConfigName);
    ads.addListener(listener);
    sync(ads, envoy, routeConfigName);
    return () -> ads.removeListener(listener);
  }

  private static void sync(AdsClient ads, EnvoyStandIn envoy, String routeConfigName) {
    RouteConfiguration routes = ads.routes().get(routeConfigName);
    apply(
        envoy,
        routes == null ? RouteConfiguration.getDefaultInstance() : routes,
        ads.clusters(),
        ads.endpoints());
  }

  /**
   * Converts and installs: clusters first, so that no new route points at a cluster not yet known.
   */
  public static Applied apply(
      EnvoyStandIn envoy,
      RouteConfiguration routeConfiguration,
      Map<String, io.envoyproxy.envoy.config.cluster.v3.Cluster> clusters,
      Map<String, ClusterLoadAssignment> endpoints) {
    List<String> skipped = new ArrayList<>();
    List<Cluster> converted = toClusters(clusters, endpoints, skipped);
    List<Route> routes = toRoutes(routeConfiguration, skipped);
    envoy.clusters().updateAll(converted);
    envoy.routes().update(routes);
    return new Applied(routes, converted, skipped);
  }

  /**
   * The routes of the virtual host for {@code *} (the stand-in has no domains): prefix matches with
   * at most one exact, non-inverted header match, to a single cluster or a direct response. Other
   * routes are skipped.
   */
  static List<Route> toRoutes(RouteConfiguration config, List<String> skipped) {
    Optional<VirtualHost> host =
        config.getVirtualHostsList().stream()
            .filter(h -> h.getDomainsList().contains("*"))
            .findFirst();
    List<Route> out = new ArrayList<>();
    if (host.isEmpty()) {
      if (config.getVirtualHostsCount() > 0) {
        skipped.add("route configuration " + config.getName() + ": no virtual host for '*'");
      }
      return out;
    }
    for (var r : host.get().getRoutesList()) {
      var match = r.getMatch();
      if (match.getPathSpecifierCase()
          != io.envoyproxy.envoy.config.route.v3.RouteMatch.PathSpecifierCase.PREFIX) {
        skipped.add("route " + r.getName() + ": only prefix path matches are supported");
        continue;
      }
      Optional<String> headerName = Optional.empty();
      String headerValue = "";
      if (match.getHeadersCount() > 1) {
        skipped.add("route " + r.getName() + ": more than one header matcher");
        continue;
      }
      if (match.getHeadersCount() == 1) {
        HeaderMatcher h = match.getHeaders(0);
        if (!h.hasStringMatch()
            || !h.getStringMatch().hasExact()
            || h.getStringMatch().getIgnoreCase()
            || h.getInvertMatch()) {
          skipped.add("route " + r.getName() + ": only exact header matches are supported");
          continue;
        }
        headerName = Optional.of(h.getName());
        headerValue = h.getStringMatch().getExact();
      }
      String prefix = match.getPrefix().isEmpty() ? "/" : match.getPrefix();
      if (r.hasDirectResponse()) {
        out.add(
            new Route(
                r.getName(),
                prefix,
                headerName,
                headerValue,
                "",
                Route.DEFAULT_TIMEOUT,
                Optional.empty(),
                Optional.of(
                    new Route.DirectResponse(
                        r.getDirectResponse().getStatus(),
                        r.getDirectResponse().getBody().getInlineString()))));
        continue;
      }
      if (!r.hasRoute() || r.getRoute().getCluster().isEmpty()) {
        skipped.add("route " + r.getName() + ": only single-cluster route actions are supported");
        continue;
      }
      var action = r.getRoute();
      out.add(
          new Route(
              r.getName(),
              prefix,
              headerName,
              headerValue,
              action.getCluster(),
              action.hasTimeout() ? toDuration(action.getTimeout()) : Route.DEFAULT_TIMEOUT,
              action.hasIdleTimeout()
                  ? Optional.of(toDuration(action.getIdleTimeout()))
                  : Optional.empty(),
              Optional.empty()));
    }
    return out;
  }

  /**
   * EDS and static clusters become round-robin clusters of their HEALTHY/UNKNOWN endpoints;
   * ORIGINAL_DST as is.
   */
  static List<Cluster> toClusters(
      Map<String, io.envoyproxy.envoy.config.cluster.v3.Cluster> clusters,
      Map<String, ClusterLoadAssignment> endpoints,
      List<String> skipped) {
    List<Cluster> out = new ArrayList<>();
    for (var c : clusters.values()) {
      if (c.getType() == DiscoveryType.ORIGINAL_DST) {
        String header =
            c.getOriginalDstLbConfig().getUseHttpHeader()
                    && !c.getOriginalDstLbConfig().getHttpHeaderName().isEmpty()
                ? c.getOriginalDstLbConfig().getHttpHeaderName()
                : Cluster.DESTINATION_ENDPOINT_HEADER;
        out.add(new Cluster(c.getName(), Cluster.Type.ORIGINAL_DST, List.of(), header));
        continue;
      }
      ClusterLoadAssignment assignment;
      if (c.getType() == DiscoveryType.EDS) {
        String service = c.getEdsClusterConfig().getServiceName();
        assignment = endpoints.get(service.isEmpty() ? c.getName() : service);
      } else {
        assignment = c.getLoadAssignment();
      }
      List<Cluster.Endpoint> eps = new ArrayList<>();
      if (assignment != null) {
        for (LocalityLbEndpoints locality : assignment.getEndpointsList()) {
          for (LbEndpoint e : locality.getLbEndpointsList()) {
            if (e.getHealthStatus() != HealthStatus.HEALTHY
                && e.getHealthStatus() != HealthStatus.UNKNOWN) {
              continue;
            }
            var socket = e.getEndpoint().getAddress().getSocketAddress();
            if (socket.getPortValue() < 1) {
              skipped.add("cluster " + c.getName() + ": endpoint without a port");
              continue;
            }
            eps.add(new Cluster.Endpoint(socket.getAddress(), socket.getPortValue()));
          }
        }
      }
      out.add(Cluster.ofEndpoints(c.getName(), eps));
    }
    return out;
  }

  private static Duration toDuration(com.google.protobuf.Duration d) {
    return Duration.ofSeconds(d.getSeconds(), d.getNanos());
  }
}
