package dev.inferencebudget.harness.xds;

import com.google.protobuf.util.Durations;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Picks the route for a request from accepted xDS resources, as Envoy's router would for the subset
 * of route configuration the control plane generates: virtual hosts by exact domain or {@code *},
 * routes in order by prefix or exact path and header matchers (exact, prefix, present, inverted),
 * route or direct_response actions. Anything else does not match. Pure: the caller passes the
 * resources (usually from {@link AdsClient}).
 */
public final class RouteMatcher {

  private RouteMatcher() {}

  /** The outcome of routing one request. */
  public sealed interface Decision permits ToCluster, DirectResponse, NoRoute {}

  /**
   * Forward to a cluster.
   *
   * @param routeName the matched route's name
   * @param cluster the cluster name
   * @param endpoints the cluster's HEALTHY (or UNKNOWN) endpoints as accepted over EDS; empty when
   *     the cluster is unknown or has none (Envoy: 503 no healthy upstream)
   * @param timeout the route timeout; zero means off
   * @param idleTimeout the route idle timeout, or null if unset
   */
  public record ToCluster(
      String routeName,
      String cluster,
      List<InetSocketAddress> endpoints,
      Duration timeout,
      Duration idleTimeout)
      implements Decision {}

  /** Answer directly (e.g. the control plane's 404 fallback). */
  public record DirectResponse(
      String routeName, int status, String body, Map<String, String> headers) implements Decision {}

  /** No virtual host or route matched (Envoy: 404 with no body). */
  public record NoRoute() implements Decision {}

  /**
   * @param headers request headers, lower-case names
   */
  public static Decision route(
      RouteConfiguration routes,
      Map<String, Cluster> clusters,
      Map<String, ClusterLoadAssignment> endpoints,
      String authority,
      String path,
      Map<String, String> headers) {
    Objects.requireNonNull(routes, "routes");
    Optional<VirtualHost> host = virtualHost(routes, authority);
    if (host.isEmpty()) {
      return new NoRoute();
    }
    for (Route route : host.get().getRoutesList()) {
      if (!matches(route.getMatch(), path, headers)) {
        continue;
      }
      if (route.hasDirectResponse()) {
        Map<String, String> responseHeaders = new LinkedHashMap<>();
        for (HeaderValueOption option : route.getResponseHeadersToAddList()) {
          responseHeaders.put(
              option.getHeader().getKey().toLowerCase(Locale.ROOT), option.getHeader().getValue());
        }
        return new DirectResponse(
            route.getName(),
            route.getDirectResponse().getStatus(),
            route.getDirectResponse().getBody().getInlineString(),
            responseHeaders);
      }
      if (route.hasRoute()) {
        String clusterName = route.getRoute().getCluster();
        return new ToCluster(
            route.getName(),
            clusterName,
            healthyEndpoints(clusters.get(clusterName), endpoints),
            route.getRoute().hasTimeout()
                ? Duration.ofMillis(Durations.toMillis(route.getRoute().getTimeout()))
                : Duration.ofSeconds(15),
            route.getRoute().hasIdleTimeout()
                ? Duration.ofMillis(Durations.toMillis(route.getRoute().getIdleTimeout()))
                : null);
      }
    }
    return new NoRoute();
  }

  private static Optional<VirtualHost> virtualHost(RouteConfiguration routes, String authority) {
    String host =
        authority == null ? "" : authority.replaceFirst(":\\d+$", "").toLowerCase(Locale.ROOT);
    VirtualHost wildcard = null;
    for (VirtualHost candidate : routes.getVirtualHostsList()) {
      for (String domain : candidate.getDomainsList()) {
        if (domain.equalsIgnoreCase(host)) {
          return Optional.of(candidate);
        }
        if (domain.equals("*") && wildcard == null) {
          wildcard = candidate;
        }
      }
    }
    return Optional.ofNullable(wildcard);
  }

  private static boolean matches(RouteMatch match, String path, Map<String, String> headers) {
    String pathOnly = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
    boolean pathMatches =
        switch (match.getPathSpecifierCase()) {
          case PREFIX -> pathOnly.startsWith(match.getPrefix());
          case PATH -> pathOnly.equals(match.getPath());
          default -> false;
        };
    if (!pathMatches) {
      return false;
    }
    for (HeaderMatcher matcher : match.getHeadersList()) {
      String value = headers.get(matcher.getName().toLowerCase(Locale.ROOT));
      boolean headerMatches;
      if (matcher.hasStringMatch()) {
        headerMatches = value != null && stringMatches(matcher.getStringMatch(), value);
      } else if (matcher.getHeaderMatchSpecifierCase()
          == HeaderMatcher.HeaderMatchSpecifierCase.PRESENT_MATCH) {
        headerMatches = (value != null) == matcher.getPresentMatch();
      } else {
        headerMatches = false;
      }
      if (headerMatches == matcher.getInvertMatch()) {
        return false;
      }
    }
    return true;
  }

  private static boolean stringMatches(StringMatcher matcher, String value) {
    String actual = matcher.getIgnoreCase() ? value.toLowerCase(Locale.ROOT) : value;
    return switch (matcher.getMatchPatternCase()) {
      case EXACT ->
          actual.equals(
              matcher.getIgnoreCase()
                  ? matcher.getExact().toLowerCase(Locale.ROOT)
                  : matcher.getExact());
      case PREFIX ->
          actual.startsWith(
              matcher.getIgnoreCase()
                  ? matcher.getPrefix().toLowerCase(Locale.ROOT)
                  : matcher.getPrefix());
      default -> false;
    };
  }

  private static List<InetSocketAddress> healthyEndpoints(
      Cluster cluster, Map<String, ClusterLoadAssignment> endpoints) {
    if (cluster == null) {
      return List.of();
    }
    String service = cluster.getEdsClusterConfig().getServiceName();
    ClusterLoadAssignment assignment =
        cluster.getType() == Cluster.DiscoveryType.EDS
            ? endpoints.get(service.isEmpty() ? cluster.getName() : service)
            : cluster.getLoadAssignment();
    if (assignment == null) {
      return List.of();
    }
    List<InetSocketAddress> result = new ArrayList<>();
    for (LocalityLbEndpoints locality : assignment.getEndpointsList()) {
      for (LbEndpoint endpoint : locality.getLbEndpointsList()) {
        if (endpoint.getHealthStatus() == HealthStatus.HEALTHY
            || endpoint.getHealthStatus() == HealthStatus.UNKNOWN) {
          var socket = endpoint.getEndpoint().getAddress().getSocketAddress();
          result.add(
              InetSocketAddress.createUnresolved(socket.getAddress(), socket.getPortValue()));
        }
      }
    }
    return result;
  }
}
