package dev.inferencebudget.xds.resources;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.util.Durations;
import dev.inferencebudget.xds.api.Endpoint;
import dev.inferencebudget.xds.api.ModelEndpoints;
import dev.inferencebudget.xds.api.XdsConfig;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.MetadataOptions;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Builds Envoy resources from model endpoints and the configuration. Every method is a pure
 * function of its arguments and the configuration, so equal inputs give equal messages (the cache
 * relies on that to version resources only when they really change).
 */
public final class EnvoyResources {

  /** Where the route configurations of the gRPC api_listeners live (one per target). */
  public static final String GRPC_ROUTE_CONFIG_PREFIX = "grpc_";

  /**
   * Body of the fallback route, shaped as an OpenAI error so existing clients show it. It answers
   * requests that reach Envoy without a routing header (ext-proc did not route them, e.g. a path
   * that is not an OpenAI endpoint) or with a model key that has no route (deleted model).
   */
  public static final String FALLBACK_BODY =
      "{\"error\":{\"message\":\"No model is routed for this request.\","
          + "\"type\":\"invalid_request_error\",\"param\":\"model\",\"code\":\"model_not_found\"}}";

  public static final String FALLBACK_ROUTE_NAME = "no_model";

  private static final ConfigSource ADS_V3 =
      ConfigSource.newBuilder()
          .setResourceApiVersion(ApiVersion.V3)
          .setAds(AggregatedConfigSource.getDefaultInstance())
          .build();

  private static final Duration ZERO = Duration.getDefaultInstance();

  private final XdsConfig config;

  public EnvoyResources(XdsConfig config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  /**
   * The cluster name of a model: {@code ibc_<namespace>_<name>} with dots in the name replaced by
   * underscores. Injective for Kubernetes names (a namespace has no '_' or '.', a name has no '_')
   * and free of '/' and '.', which Envoy's stats would split on.
   */
  public static String clusterName(String modelKey) {
    Objects.requireNonNull(modelKey, "modelKey");
    int slash = modelKey.indexOf('/');
    if (slash <= 0 || slash == modelKey.length() - 1) {
      throw new IllegalArgumentException("modelKey = \"" + modelKey + "\", must be namespace/name");
    }
    return "ibc_"
        + modelKey.substring(0, slash)
        + "_"
        + modelKey.substring(slash + 1).replace('.', '_');
  }

  /** Name of the route configuration a gRPC api_listener for {@code target} uses. */
  public static String grpcRouteConfigName(String target) {
    return GRPC_ROUTE_CONFIG_PREFIX + target;
  }

  /** The model's cluster: endpoints over EDS through ADS. */
  public Cluster cluster(String modelKey) {
    String name = clusterName(modelKey);
    Cluster.Builder cluster =
        Cluster.newBuilder()
            .setName(name)
            .setType(Cluster.DiscoveryType.EDS)
            .setEdsClusterConfig(
                Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ADS_V3).setServiceName(name))
            .setConnectTimeout(Durations.fromMillis(config.clusterConnectTimeout().toMillis()))
            .setLbPolicy(
                switch (config.lbPolicy()) {
                  case LEAST_REQUEST -> Cluster.LbPolicy.LEAST_REQUEST;
                  case ROUND_ROBIN -> Cluster.LbPolicy.ROUND_ROBIN;
                })
            .setCircuitBreakers(
                CircuitBreakers.newBuilder()
                    .addThresholds(
                        CircuitBreakers.Thresholds.newBuilder()
                            .setPriority(RoutingPriority.DEFAULT)
                            .setMaxRequests(UInt32Value.of(config.maxRequestsPerCluster()))
                            .setMaxPendingRequests(UInt32Value.of(config.maxRequestsPerCluster()))
                            .setMaxConnections(UInt32Value.of(config.maxRequestsPerCluster()))));
    if (config.upstreamProtocol() == XdsConfig.UpstreamProtocol.HTTP2) {
      cluster.putTypedExtensionProtocolOptions(
          "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
          Any.pack(
              HttpProtocolOptions.newBuilder()
                  .setExplicitHttpConfig(
                      HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
                          .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()))
                  .build()));
    }
    return cluster.build();
  }

  /**
   * The model's endpoints: its ready replicas only, all HEALTHY, in one locality (grpc-xds needs a
   * locality with a weight). A model without ready replicas gets an empty assignment, so its
   * cluster stays warm and a held request can be routed the moment a replica is published.
   */
  public ClusterLoadAssignment loadAssignment(ModelEndpoints model) {
    String name = clusterName(model.modelKey());
    ClusterLoadAssignment.Builder assignment =
        ClusterLoadAssignment.newBuilder().setClusterName(name);
    LocalityLbEndpoints.Builder locality =
        LocalityLbEndpoints.newBuilder()
            .setLocality(Locality.newBuilder().setZone("ibc"))
            .setLoadBalancingWeight(UInt32Value.of(1));
    // sorted and de-duplicated: the informer's order must not make a new version, and grpc-xds
    // rejects an assignment that lists an address twice
    List<Endpoint> ready =
        model.readyEndpoints().stream()
            .distinct()
            .sorted(Comparator.comparing(Endpoint::address).thenComparingInt(Endpoint::port))
            .toList();
    for (Endpoint endpoint : ready) {
      locality.addLbEndpoints(
          LbEndpoint.newBuilder()
              .setHealthStatus(HealthStatus.HEALTHY)
              .setEndpoint(
                  io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                      .setAddress(socketAddress(endpoint.address(), endpoint.port()))));
    }
    if (locality.getLbEndpointsCount() > 0) {
      assignment.addEndpoints(locality);
    }
    return assignment.build();
  }

  /**
   * The route table: one virtual host for every domain, one route per model matching the routing
   * header exactly (sorted by model key, so equal model sets give equal messages), then the
   * fallback route answering 404 with an OpenAI error body.
   */
  public RouteConfiguration routeConfiguration(Collection<String> modelKeys) {
    VirtualHost.Builder host = VirtualHost.newBuilder().setName("models").addDomains("*");
    modelKeys.stream().sorted().distinct().forEach(key -> host.addRoutes(modelRoute(key)));
    host.addRoutes(
        Route.newBuilder()
            .setName(FALLBACK_ROUTE_NAME)
            .setMatch(RouteMatch.newBuilder().setPrefix("/"))
            .setDirectResponse(
                DirectResponseAction.newBuilder()
                    .setStatus(404)
                    .setBody(DataSource.newBuilder().setInlineString(FALLBACK_BODY)))
            .addResponseHeadersToAdd(
                HeaderValueOption.newBuilder()
                    .setHeader(
                        HeaderValue.newBuilder()
                            .setKey("content-type")
                            .setValue("application/json"))
                    .setAppendAction(
                        HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)));
    return RouteConfiguration.newBuilder()
        .setName(config.routeConfigName())
        .addVirtualHosts(host)
        .build();
  }

  private Route modelRoute(String modelKey) {
    return Route.newBuilder()
        .setName(modelKey)
        .setMatch(
            RouteMatch.newBuilder()
                .setPrefix("/")
                .addHeaders(
                    HeaderMatcher.newBuilder()
                        .setName(config.routingHeader())
                        .setStringMatch(StringMatcher.newBuilder().setExact(modelKey))))
        .setRoute(
            RouteAction.newBuilder()
                .setCluster(clusterName(modelKey))
                // 0s turns the route timeout off: a generation may run for many minutes
                .setTimeout(ZERO)
                .setIdleTimeout(Durations.fromMillis(config.routeIdleTimeout().toMillis())))
        .build();
  }

  /**
   * The standalone Envoy's HTTP listener: HCM with RDS over ADS, the ext_proc filter (BUFFERED
   * request bodies, STREAMED responses, overridable message timeout up to the longest hold), then
   * the router. Mirrors the static listener in {@code envoy/envoy.yaml}.
   */
  public Listener standaloneListener() {
    XdsConfig.StandaloneListener options = config.standaloneListener();
    ExternalProcessor extProc =
        ExternalProcessor.newBuilder()
            .setGrpcService(
                GrpcService.newBuilder()
                    .setEnvoyGrpc(
                        GrpcService.EnvoyGrpc.newBuilder()
                            .setClusterName(options.extProcClusterName())))
            .setFailureModeAllow(false)
            .setProcessingMode(
                ProcessingMode.newBuilder()
                    .setRequestHeaderMode(ProcessingMode.HeaderSendMode.SEND)
                    .setRequestBodyMode(ProcessingMode.BodySendMode.BUFFERED)
                    .setRequestTrailerMode(ProcessingMode.HeaderSendMode.SKIP)
                    .setResponseHeaderMode(ProcessingMode.HeaderSendMode.SEND)
                    .setResponseBodyMode(ProcessingMode.BodySendMode.STREAMED)
                    .setResponseTrailerMode(ProcessingMode.HeaderSendMode.SKIP))
            .setMessageTimeout(Durations.fromMillis(options.extProcMessageTimeout().toMillis()))
            .setMaxMessageTimeout(Durations.fromMillis(config.longestHold().toMillis()))
            .addRequestAttributes("request.path")
            .addRequestAttributes("request.method")
            .addRequestAttributes("request.id")
            .setMetadataOptions(
                MetadataOptions.newBuilder()
                    .setReceivingNamespaces(
                        MetadataOptions.MetadataNamespaces.newBuilder().addUntyped("envoy.lb")))
            .build();
    HttpConnectionManager hcm =
        HttpConnectionManager.newBuilder()
            .setStatPrefix("ingress")
            .setStreamIdleTimeout(Durations.fromMillis(options.streamIdleTimeout().toMillis()))
            // off: it would count the time a request is held during a cold start
            .setRequestTimeout(ZERO)
            .setRds(
                Rds.newBuilder()
                    .setRouteConfigName(config.routeConfigName())
                    .setConfigSource(ADS_V3))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("envoy.filters.http.ext_proc")
                    .setTypedConfig(Any.pack(extProc)))
            .addHttpFilters(router())
            .build();
    return Listener.newBuilder()
        .setName(options.name())
        .setAddress(socketAddress(options.address(), options.port()))
        .setPerConnectionBufferLimitBytes(UInt32Value.of(options.perConnectionBufferLimitBytes()))
        .addFilterChains(
            FilterChain.newBuilder()
                .addFilters(
                    Filter.newBuilder()
                        .setName("envoy.filters.network.http_connection_manager")
                        .setTypedConfig(Any.pack(hcm))))
        .build();
  }

  /**
   * A gRPC-style listener for {@code xds:///<target>}: an api_listener whose HCM takes its routes
   * over RDS (route configuration {@link #grpcRouteConfigName(String)}). Lets grpc-java's xDS
   * client (and any proxyless gRPC client) resolve a model's replicas through this server.
   */
  public Listener grpcApiListener(String target) {
    HttpConnectionManager hcm =
        HttpConnectionManager.newBuilder()
            .setStatPrefix("grpc")
            .setRds(
                Rds.newBuilder()
                    .setRouteConfigName(grpcRouteConfigName(target))
                    .setConfigSource(ADS_V3))
            .addHttpFilters(router())
            .build();
    return Listener.newBuilder()
        .setName(target)
        .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(hcm)))
        .build();
  }

  /** The route configuration of a gRPC target: every call goes to the model's cluster. */
  public RouteConfiguration grpcRouteConfiguration(String target, String modelKey) {
    return RouteConfiguration.newBuilder()
        .setName(grpcRouteConfigName(target))
        .addVirtualHosts(
            VirtualHost.newBuilder()
                .setName(target)
                .addDomains("*")
                .addRoutes(
                    Route.newBuilder()
                        .setMatch(RouteMatch.newBuilder().setPrefix(""))
                        .setRoute(RouteAction.newBuilder().setCluster(clusterName(modelKey)))))
        .build();
  }

  private static HttpFilter router() {
    return HttpFilter.newBuilder()
        .setName("envoy.filters.http.router")
        .setTypedConfig(Any.pack(Router.getDefaultInstance()))
        .build();
  }

  private static Address socketAddress(String address, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(address).setPortValue(port))
        .build();
  }
}
