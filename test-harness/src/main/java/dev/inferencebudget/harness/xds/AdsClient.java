package dev.inferencebudget.harness.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * A state-of-the-world ADS client that behaves like Envoy:
 *
 * <ul>
 *   <li>opens with a wildcard CDS request (and a wildcard LDS request if listeners are dynamic),
 *       and RDS requests for the route tables its static listeners name;
 *   <li>subscribes to EDS for every EDS cluster it accepted, and to RDS for every route table its
 *       accepted listeners name, updating the subscription as they come and go;
 *   <li>answers every response: an ACK carries the response's version_info and nonce; a NACK
 *       carries the last accepted version_info, the response's nonce and an error_detail, and keeps
 *       the previous state of that type;
 *   <li>treats Cluster and Listener responses as the full state and RouteConfiguration and
 *       ClusterLoadAssignment responses as updates of the resources they carry.
 * </ul>
 *
 * <p>Thread-safe. Listeners run on the gRPC thread after the answer has been sent; they must not
 * block.
 */
public final class AdsClient implements AutoCloseable {

  public static final String CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  public static final String ENDPOINT =
      "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  public static final String LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener";
  public static final String ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

  /**
   * How the client subscribes.
   *
   * @param nodeId the Envoy node id
   * @param nodeCluster the Envoy node cluster
   * @param dynamicListeners subscribe to LDS (wildcard); false for a bootstrap with static
   *     listeners, like {@code envoy/envoy.yaml}
   * @param staticRouteConfigNames route tables the static listeners take over RDS
   * @param validator decides ACK or NACK per resource
   * @param nanoClock read right after each answer is sent, for latency measurements
   */
  public record Options(
      String nodeId,
      String nodeCluster,
      boolean dynamicListeners,
      Set<String> staticRouteConfigNames,
      ResourceValidator validator,
      LongSupplier nanoClock) {
    public Options {
      Objects.requireNonNull(nodeId, "nodeId");
      Objects.requireNonNull(nodeCluster, "nodeCluster");
      staticRouteConfigNames = Set.copyOf(staticRouteConfigNames);
      Objects.requireNonNull(validator, "validator");
      Objects.requireNonNull(nanoClock, "nanoClock");
    }

    /** Like the standalone bootstrap: static listener taking {@code routeConfigName} over RDS. */
    public static Options standaloneEnvoy(String nodeId, String routeConfigName) {
      return new Options(
          nodeId,
          "llm-gw",
          false,
          Set.of(routeConfigName),
          ResourceValidator.ACCEPT_ALL,
          System::nanoTime);
    }

    public Options withValidator(ResourceValidator validator) {
      return new Options(
          nodeId, nodeCluster, dynamicListeners, staticRouteConfigNames, validator, nanoClock);
    }

    public Options withDynamicListeners(boolean dynamicListeners) {
      return new Options(
          nodeId, nodeCluster, dynamicListeners, staticRouteConfigNames, validator, nanoClock);
    }
  }

  /** Responses kept for {@link #responses()}; a long sandbox run must not grow without bound. */
  public static final int HISTORY_LIMIT = 10_000;

  private final Options options;
  private final ManagedChannel ownedChannel;
  private final StreamObserver<DiscoveryRequest> requests;
  private final Object lock = new Object();
  private final Map<String, TypeState> types = new HashMap<>();
  private final java.util.ArrayDeque<ReceivedResponse> history = new java.util.ArrayDeque<>();
  private final List<Consumer<ReceivedResponse>> listeners = new CopyOnWriteArrayList<>();
  private volatile Throwable streamError;
  private volatile boolean streamClosed;

  private AdsClient(io.grpc.Channel channel, ManagedChannel ownedChannel, Options options) {
    this.options = Objects.requireNonNull(options, "options");
    this.ownedChannel = ownedChannel;
    for (String type : List.of(CLUSTER, ENDPOINT, LISTENER, ROUTE)) {
      types.put(type, new TypeState());
    }
    this.requests =
        AggregatedDiscoveryServiceGrpc.newStub(channel)
            .streamAggregatedResources(
                new StreamObserver<>() {
                  @Override
                  public void onNext(DiscoveryResponse response) {
                    handle(response);
                  }

                  @Override
                  public void onError(Throwable t) {
                    streamError = t;
                    streamClosed = true;
                  }

                  @Override
                  public void onCompleted() {
                    streamClosed = true;
                  }
                });
    synchronized (lock) {
      types.get(CLUSTER).names = Set.of();
      send(CLUSTER, null);
      if (options.dynamicListeners()) {
        send(LISTENER, null);
      }
      if (!options.staticRouteConfigNames().isEmpty()) {
        types.get(ROUTE).names = new TreeSet<>(options.staticRouteConfigNames());
        send(ROUTE, null);
      }
    }
  }

  /** Connects over plaintext gRPC to {@code host:port}; {@link #close()} closes the channel. */
  public static AdsClient connect(String host, int port, Options options) {
    ManagedChannel channel = ManagedChannelBuilder.forAddress(host, port).usePlaintext().build();
    return new AdsClient(channel, channel, options);
  }

  /** Opens the ADS stream on a channel the caller owns. */
  public static AdsClient onChannel(io.grpc.Channel channel, Options options) {
    return new AdsClient(channel, null, options);
  }

  public void addListener(Consumer<ReceivedResponse> listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  public void removeListener(Consumer<ReceivedResponse> listener) {
    listeners.remove(listener);
  }

  /** Accepted clusters by name. */
  public Map<String, Cluster> clusters() {
    return accepted(CLUSTER, Cluster.class);
  }

  /** Accepted endpoints by cluster (EDS service) name. */
  public Map<String, ClusterLoadAssignment> endpoints() {
    return accepted(ENDPOINT, ClusterLoadAssignment.class);
  }

  /** Accepted listeners by name. */
  public Map<String, Listener> listeners() {
    return accepted(LISTENER, Listener.class);
  }

  /** Accepted route tables by name. */
  public Map<String, RouteConfiguration> routes() {
    return accepted(ROUTE, RouteConfiguration.class);
  }

  /**
   * Routes a request with the accepted route table {@code routeConfigName}, clusters and endpoints,
   * as Envoy's router would (see {@link RouteMatcher}).
   *
   * @param headers request headers, lower-case names
   */
  public RouteMatcher.Decision route(
      String routeConfigName, String authority, String path, Map<String, String> headers) {
    synchronized (lock) {
      RouteConfiguration routes =
          (RouteConfiguration) types.get(ROUTE).resources.get(routeConfigName);
      if (routes == null) {
        return new RouteMatcher.NoRoute();
      }
      return RouteMatcher.route(routes, clusters(), endpoints(), authority, path, headers);
    }
  }

  /** The version_info last accepted for a type ("" before the first ACK). */
  public String acceptedVersion(String typeUrl) {
    synchronized (lock) {
      return types.get(typeUrl).acceptedVersion;
    }
  }

  /** The resource names currently subscribed for a type (empty for a wildcard). */
  public Set<String> subscribedNames(String typeUrl) {
    synchronized (lock) {
      return Set.copyOf(types.get(typeUrl).names);
    }
  }

  /** The last {@value #HISTORY_LIMIT} responses processed, oldest first. */
  public List<ReceivedResponse> responses() {
    synchronized (lock) {
      return List.copyOf(history);
    }
  }

  public Optional<Throwable> streamError() {
    return Optional.ofNullable(streamError);
  }

  public boolean isStreamClosed() {
    return streamClosed;
  }

  /** Ends the stream (as an Envoy shutting down would) and closes the channel if owned. */
  @Override
  public void close() throws InterruptedException {
    synchronized (lock) {
      if (!streamClosed) {
        requests.onCompleted();
      }
    }
    if (ownedChannel != null) {
      ownedChannel.shutdownNow();
      ownedChannel.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private <T extends Message> Map<String, T> accepted(String typeUrl, Class<T> type) {
    synchronized (lock) {
      Map<String, T> result = new TreeMap<>();
      types.get(typeUrl).resources.forEach((name, message) -> result.put(name, type.cast(message)));
      return result;
    }
  }

  private void handle(DiscoveryResponse response) {
    ReceivedResponse received;
    synchronized (lock) {
      String type = response.getTypeUrl();
      TypeState state = types.get(type);
      if (state == null) {
        return;
      }
      Map<String, Message> parsed = new TreeMap<>();
      List<String> names = new ArrayList<>();
      String error = null;
      for (Any any : response.getResourcesList()) {
        try {
          Message message = parse(type, any);
          String name = nameOf(message);
          names.add(name);
          parsed.put(name, message);
          if (error == null) {
            error = options.validator().validate(type, message).orElse(null);
          }
        } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
          error = "cannot parse " + any.getTypeUrl() + ": " + e.getMessage();
        }
      }
      state.lastNonce = response.getNonce();
      if (error == null) {
        if (type.equals(CLUSTER) || type.equals(LISTENER)) {
          state.resources.clear();
        }
        state.resources.putAll(parsed);
        state.acceptedVersion = response.getVersionInfo();
      }
      received =
          new ReceivedResponse(
              type,
              response.getVersionInfo(),
              response.getNonce(),
              names,
              error == null,
              error == null ? "" : error,
              options.nanoClock().getAsLong());
      history.addLast(received);
      if (history.size() > HISTORY_LIMIT) {
        history.removeFirst();
      }
    }
    // Envoy applies an update before it acknowledges it: the control plane may treat an ACK as
    // "this proxy now routes with it" (the controller marks a model routable on it, and ext-proc
    // then releases held requests). So the listeners (the stand-in's feed) apply first.
    for (Consumer<ReceivedResponse> listener : listeners) {
      listener.accept(received);
    }
    synchronized (lock) {
      send(received.typeUrl(), received.accepted() ? null : received.errorDetail());
      if (received.accepted()) {
        if (received.typeUrl().equals(CLUSTER)) {
          resubscribe(ENDPOINT, edsNames());
        } else if (received.typeUrl().equals(LISTENER)) {
          Set<String> routeNames = new TreeSet<>(options.staticRouteConfigNames());
          routeNames.addAll(rdsNames());
          resubscribe(ROUTE, routeNames);
        }
      }
    }
  }

  /** Lock held. */
  private void resubscribe(String type, Set<String> names) {
    TypeState state = types.get(type);
    if (names.equals(state.names)) {
      return;
    }
    state.resources.keySet().retainAll(names);
    state.names = names;
    send(type, null);
  }

  /** Lock held. */
  private void send(String type, String errorDetail) {
    TypeState state = types.get(type);
    DiscoveryRequest.Builder request =
        DiscoveryRequest.newBuilder()
            .setNode(Node.newBuilder().setId(options.nodeId()).setCluster(options.nodeCluster()))
            .setTypeUrl(type)
            .setVersionInfo(state.acceptedVersion)
            .setResponseNonce(state.lastNonce)
            .addAllResourceNames(state.names);
    if (errorDetail != null) {
      request.setErrorDetail(
          Status.newBuilder()
              .setCode(io.grpc.Status.Code.INVALID_ARGUMENT.value())
              .setMessage(errorDetail));
    }
    requests.onNext(request.build());
  }

  /** Lock held. */
  private Set<String> edsNames() {
    Set<String> names = new TreeSet<>();
    for (Message message : types.get(CLUSTER).resources.values()) {
      Cluster cluster = (Cluster) message;
      if (cluster.getType() == Cluster.DiscoveryType.EDS) {
        String service = cluster.getEdsClusterConfig().getServiceName();
        names.add(service.isEmpty() ? cluster.getName() : service);
      }
    }
    return names;
  }

  /** Lock held. */
  private Set<String> rdsNames() {
    Set<String> names = new LinkedHashSet<>();
    for (Message message : types.get(LISTENER).resources.values()) {
      Listener listener = (Listener) message;
      List<Any> managers = new ArrayList<>();
      if (listener.hasApiListener()) {
        managers.add(listener.getApiListener().getApiListener());
      }
      for (FilterChain chain : listener.getFilterChainsList()) {
        for (Filter filter : chain.getFiltersList()) {
          managers.add(filter.getTypedConfig());
        }
      }
      for (Any any : managers) {
        if (any.is(HttpConnectionManager.class)) {
          try {
            HttpConnectionManager hcm = any.unpack(HttpConnectionManager.class);
            if (hcm.hasRds()) {
              names.add(hcm.getRds().getRouteConfigName());
            }
          } catch (InvalidProtocolBufferException e) {
            // a listener that does not parse was NACKed already
          }
        }
      }
    }
    return new TreeSet<>(names);
  }

  private static Message parse(String type, Any any) throws InvalidProtocolBufferException {
    if (!any.getTypeUrl().equals(type)) {
      throw new IllegalArgumentException("resource of type " + any.getTypeUrl() + " in " + type);
    }
    return switch (type) {
      case CLUSTER -> Cluster.parseFrom(any.getValue());
      case ENDPOINT -> ClusterLoadAssignment.parseFrom(any.getValue());
      case LISTENER -> Listener.parseFrom(any.getValue());
      case ROUTE -> RouteConfiguration.parseFrom(any.getValue());
      default -> throw new IllegalArgumentException("unsupported type " + type);
    };
  }

  private static String nameOf(Message message) {
    if (message instanceof Cluster cluster) {
      return cluster.getName();
    } else if (message instanceof ClusterLoadAssignment assignment) {
      return assignment.getClusterName();
    } else if (message instanceof Listener listener) {
      return listener.getName();
    } else if (message instanceof RouteConfiguration route) {
      return route.getName();
    }
    throw new IllegalArgumentException("unsupported resource " + message.getClass());
  }

  private static final class TypeState {
    String acceptedVersion = "";
    String lastNonce = "";
    Set<String> names = Set.of();
    final Map<String, Message> resources = new TreeMap<>();
  }
}
