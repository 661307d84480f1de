package dev.inferencebudget.xds;

import dev.inferencebudget.xds.api.ModelEndpoints;
import dev.inferencebudget.xds.api.RoutabilityListener;
import dev.inferencebudget.xds.api.XdsConfig;
import dev.inferencebudget.xds.resources.EnvoyResources;
import dev.inferencebudget.xds.server.AdsCache;
import dev.inferencebudget.xds.server.ClientView;
import dev.inferencebudget.xds.server.ResourceChanges;
import dev.inferencebudget.xds.server.RoutabilityTracker;
import dev.inferencebudget.xds.server.RoutabilityTracker.ModelVersions;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.grpc.BindableService;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The xDS control plane: turns model endpoints into Envoy resources, serves them over ADS, and says
 * which models are routable.
 *
 * <p>The controller calls {@link #update} with the full set of models after every decision cycle
 * (idempotent: unchanged models send nothing), and ext-proc's feed reads {@link #isRoutable} or
 * listens through {@link #addRoutabilityListener}.
 *
 * <pre>{@code
 * XdsControlPlane xds = XdsControlPlane.create(XdsConfig.defaults(), registry).start();
 * xds.addRoutabilityListener((model, routable) -> ...);
 * xds.update(List.of(new ModelEndpoints("team-a/llama", List.of(Endpoint.ready("10.0.0.7", 8000)))));
 * }</pre>
 */
public final class XdsControlPlane implements AutoCloseable {

  /** Type URLs of the resources served, for {@link #ackedVersions()}. */
  public static final String CLUSTER_TYPE_URL = Resources.V3.CLUSTER_TYPE_URL;

  public static final String ENDPOINT_TYPE_URL = Resources.V3.ENDPOINT_TYPE_URL;
  public static final String LISTENER_TYPE_URL = Resources.V3.LISTENER_TYPE_URL;
  public static final String ROUTE_TYPE_URL = Resources.V3.ROUTE_TYPE_URL;

  private final XdsConfig config;
  private final EnvoyResources resources;
  private final ExecutorService notifications;
  private final RoutabilityTracker routability;
  private final AdsCache cache;
  private final V3DiscoveryServer discoveryServer;
  private Map<String, ModelEndpoints> models = Map.of();
  private Map<String, String> grpcTargets = Map.of();
  private Map<String, ModelVersions> modelVersions = Map.of();
  private Server server;

  private XdsControlPlane(XdsConfig config, PrometheusRegistry registry) {
    this.config = config.validate();
    this.resources = new EnvoyResources(config);
    this.notifications =
        Executors.newSingleThreadExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "ibc-xds-routability");
              thread.setDaemon(true);
              return thread;
            });
    this.routability =
        new RoutabilityTracker(config.routeConfigName(), config.withoutEnvoys(), notifications);
    this.cache = new AdsCache(routability, registry);
    this.discoveryServer = new V3DiscoveryServer(cache, cache);
    ResourceChanges.Builder initial =
        ResourceChanges.builder()
            .upsert(
                ROUTE_TYPE_URL, config.routeConfigName(), resources.routeConfiguration(List.of()));
    if (config.standaloneListener().enabled()) {
      initial.upsert(
          LISTENER_TYPE_URL, config.standaloneListener().name(), resources.standaloneListener());
    }
    cache.apply(initial.build(), generation -> {});
  }

  /** Builds the control plane (validating the config); {@link #start()} opens the port. */
  public static XdsControlPlane create(XdsConfig config, PrometheusRegistry registry) {
    return new XdsControlPlane(
        Objects.requireNonNull(config, "config"), Objects.requireNonNull(registry, "registry"));
  }

  /** Serves ADS in plaintext on {@code config.bindAddress():config.port()}. */
  public XdsControlPlane start() throws IOException {
    return start(InsecureServerCredentials.create());
  }

  /** Serves ADS on {@code config.bindAddress():config.port()} with the given credentials (TLS). */
  public synchronized XdsControlPlane start(ServerCredentials credentials) throws IOException {
    Objects.requireNonNull(credentials, "credentials");
    if (server != null) {
      throw new IllegalStateException("already started");
    }
    server =
        NettyServerBuilder.forAddress(
                new InetSocketAddress(config.bindAddress(), config.port()), credentials)
            .addService(adsService())
            // Envoy may ping idle ADS streams; do not punish it for that
            .permitKeepAliveWithoutCalls(true)
            .permitKeepAliveTime(10, TimeUnit.SECONDS)
            .build()
            .start();
    return this;
  }

  /**
   * The ADS service, for hosting on a gRPC server of the caller's own instead of {@link #start}.
   */
  public BindableService adsService() {
    return discoveryServer.getAggregatedDiscoveryServiceImpl();
  }

  /** The bound port (after {@link #start()}). */
  public synchronized int port() {
    if (server == null) {
      throw new IllegalStateException("not started");
    }
    return server.getPort();
  }

  /**
   * Publishes the full set of models. Models not in {@code models} lose their cluster, endpoints
   * and route. Only what changed is versioned anew and sent: a model whose endpoints changed sends
   * only its ClusterLoadAssignment; a model added or removed also changes the route table.
   *
   * @throws IllegalArgumentException if two entries share a model key
   */
  public synchronized void update(Collection<ModelEndpoints> models) {
    Map<String, ModelEndpoints> next = new LinkedHashMap<>();
    for (ModelEndpoints model : models) {
      if (next.put(model.modelKey(), model) != null) {
        throw new IllegalArgumentException("model key " + model.modelKey() + " given twice");
      }
    }
    ResourceChanges.Builder changes = ResourceChanges.builder();
    for (ModelEndpoints model : next.values()) {
      ModelEndpoints previous = this.models.get(model.modelKey());
      String cluster = EnvoyResources.clusterName(model.modelKey());
      if (previous == null) {
        changes.upsert(CLUSTER_TYPE_URL, cluster, resources.cluster(model.modelKey()));
      }
      if (!model.equals(previous)) {
        changes.upsert(ENDPOINT_TYPE_URL, cluster, resources.loadAssignment(model));
      }
    }
    for (String removed : this.models.keySet()) {
      if (!next.containsKey(removed)) {
        String cluster = EnvoyResources.clusterName(removed);
        changes.remove(CLUSTER_TYPE_URL, cluster).remove(ENDPOINT_TYPE_URL, cluster);
      }
    }
    if (!next.keySet().equals(this.models.keySet())) {
      changes.upsert(
          ROUTE_TYPE_URL, config.routeConfigName(), resources.routeConfiguration(next.keySet()));
    }
    this.models = Map.copyOf(next);
    cache.apply(changes.build(), generation -> routability.setModels(versionsOf(next)));
  }

  /**
   * Publishes gRPC-style api_listeners so proxyless gRPC clients can resolve {@code
   * xds:///<target>} to a model's ready replicas.
   *
   * @param targetsToModelKeys target (listener name) → model key
   */
  public synchronized void setGrpcTargets(Map<String, String> targetsToModelKeys) {
    Map<String, String> next = Map.copyOf(targetsToModelKeys);
    ResourceChanges.Builder changes = ResourceChanges.builder();
    next.forEach(
        (target, modelKey) -> {
          changes.upsert(LISTENER_TYPE_URL, target, resources.grpcApiListener(target));
          changes.upsert(
              ROUTE_TYPE_URL,
              EnvoyResources.grpcRouteConfigName(target),
              resources.grpcRouteConfiguration(target, modelKey));
        });
    grpcTargets.keySet().stream()
        .filter(target -> !next.containsKey(target))
        .forEach(
            target ->
                changes
                    .remove(LISTENER_TYPE_URL, target)
                    .remove(ROUTE_TYPE_URL, EnvoyResources.grpcRouteConfigName(target)));
    grpcTargets = next;
    cache.apply(changes.build(), generation -> {});
  }

  /** Whether every connected Envoy can route to a ready replica of the model. */
  public boolean isRoutable(String modelKey) {
    return routability.isRoutable(modelKey);
  }

  /** The models that are routable now. */
  public Set<String> routableModels() {
    return routability.routableModels();
  }

  /**
   * Calls {@code listener} on every later change of a model's routability, in order, on one thread.
   * Read {@link #routableModels()} after adding it for the current state.
   *
   * @return closing it removes the listener
   */
  public AutoCloseable addRoutabilityListener(RoutabilityListener listener) {
    routability.addListener(listener);
    return () -> routability.removeListener(listener);
  }

  /** Each connected client (by stream) with the version it ACKed of every resource, by type URL. */
  public List<AdsCache.ClientAcks> ackedVersions() {
    return cache.clients();
  }

  /**
   * Connected clients that finished their initial sync, i.e. the ones routability counts. A
   * controller replica with none has no say in whether a model is routable (see docs/controller.md,
   * high availability).
   */
  public int syncedClients() {
    return cache.syncedClients();
  }

  /** The version currently served for a resource, or -1. */
  public long servedVersion(String typeUrl, String name) {
    return cache.version(typeUrl, name);
  }

  @Override
  public synchronized void close() throws InterruptedException {
    if (server != null) {
      server.shutdownNow();
      server.awaitTermination(5, TimeUnit.SECONDS);
    }
    notifications.shutdown();
  }

  /** Runs inside the cache's lock, right after the batch is in: versions are final. */
  private Map<String, ModelVersions> versionsOf(Map<String, ModelEndpoints> next) {
    Map<String, ModelVersions> result = new HashMap<>();
    long routeVersion = cache.version(ROUTE_TYPE_URL, config.routeConfigName());
    for (ModelEndpoints model : next.values()) {
      String cluster = EnvoyResources.clusterName(model.modelKey());
      ModelVersions previous = modelVersions.get(model.modelKey());
      long readySince;
      if (!model.hasReadyEndpoint()) {
        readySince = ClientView.NONE;
      } else if (previous != null && previous.readySince() != ClientView.NONE) {
        readySince = previous.readySince();
      } else {
        readySince = cache.version(ENDPOINT_TYPE_URL, cluster);
      }
      result.put(
          model.modelKey(),
          new ModelVersions(
              cluster,
              previous == null ? cache.version(CLUSTER_TYPE_URL, cluster) : previous.clusterSince(),
              readySince,
              previous == null ? routeVersion : previous.routeSince()));
    }
    modelVersions = Map.copyOf(result);
    return result;
  }
}
