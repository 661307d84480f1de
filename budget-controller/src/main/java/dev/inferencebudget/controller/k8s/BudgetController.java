package dev.inferencebudget.controller.k8s;

import dev.inferencebudget.controller.config.ControllerConfig;
import dev.inferencebudget.controller.decision.ModelState;
import dev.inferencebudget.controller.k8s.route.HttpRouteReconciler;
import dev.inferencebudget.controller.link.ControllerApiServer;
import dev.inferencebudget.controller.link.ControllerApiService;
import dev.inferencebudget.controller.link.LeaderLink;
import dev.inferencebudget.controller.link.LoadAggregator;
import dev.inferencebudget.controller.link.ModelStatePublisher;
import dev.inferencebudget.controller.link.PeerRoutability;
import dev.inferencebudget.controller.link.PeerTransport;
import dev.inferencebudget.controller.metrics.ControllerMetrics;
import dev.inferencebudget.controller.observe.GpuMemoryObserver;
import dev.inferencebudget.xds.XdsControlPlane;
import dev.inferencebudget.xds.api.XdsConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The controller as one object: informers, the reconciler on its own thread, leader election, the
 * xDS server and the ext-proc link API. {@code Main} and the test sandbox start it the same way:
 *
 * <pre>{@code
 * BudgetController controller =
 *     new BudgetController(client, ControllerConfig.defaults(), xdsConfig, Clock.systemUTC(), registry);
 * controller.start();            // syncs caches, binds xDS + link API, campaigns for the lease
 * controller.linkApiPort();      // ext-proc connects here
 * controller.close();            // releases the lease, stops everything
 * }</pre>
 */
public final class BudgetController implements AutoCloseable {

  private final KubernetesClient client;
  private final ControllerConfig config;
  private final ControllerMetrics metrics;
  private final ModelStatePublisher publisher = new ModelStatePublisher();
  private final LoadAggregator loads = new LoadAggregator();
  private final XdsControlPlane xds;
  private final ScheduledExecutorService executor;
  private final ClusterCaches caches;
  private final HttpRouteReconciler routes;
  private final Reconciler reconciler;
  private final LeaderElection election;
  private final LeaderLink leaderLink;
  private final GpuMemoryObserver gpuObserver;
  private final PeerRoutability peers;
  private final Clock clock;
  private volatile boolean leader;
  private boolean closed;
  private ControllerApiServer apiServer;
  private ServerCredentials serverCredentials = InsecureServerCredentials.create();
  private AutoCloseable routabilitySubscription;

  public BudgetController(
      KubernetesClient client,
      ControllerConfig config,
      XdsConfig xdsConfig,
      Clock clock,
      PrometheusRegistry registry) {
    this(
        client,
        config,
        xdsConfig,
        clock,
        registry,
        LeaderAddresses.pods(
            client, config.leaderElection().leaseNamespace(), config.linkApiPort()));
  }

  /**
   * @param leaderAddresses where another replica's link API is, from its Lease identity (standbys
   *     forward to the leader there)
   */
  public BudgetController(
      KubernetesClient client,
      ControllerConfig config,
      XdsConfig xdsConfig,
      Clock clock,
      PrometheusRegistry registry,
      LeaderAddresses leaderAddresses) {
    Objects.requireNonNull(leaderAddresses, "leaderAddresses");
    this.client = Objects.requireNonNull(client, "client");
    this.config = Objects.requireNonNull(config, "config").validate();
    this.clock = Objects.requireNonNull(clock, "clock");
    this.metrics =
        new ControllerMetrics(
            registry, Arrays.stream(ModelState.values()).map(ModelState::statusName).toList());
    this.xds = XdsControlPlane.create(xdsConfig, registry);
    this.executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "ibc-reconciler-" + config.leaderElection().identity());
              t.setDaemon(true);
              return t;
            });
    Reconciler[] holder = new Reconciler[1];
    Runnable onChange =
        () -> {
          if (holder[0] != null) {
            holder[0].requestCycle();
          }
        };
    this.peers = new PeerRoutability(onChange);
    // A standby republishes the leader's states; when the relay breaks, its own cycle publishes.
    this.leaderLink =
        new LeaderLink(
            states -> states.ifPresentOrElse(s -> publisher.publish(s.getModelsList()), onChange));
    this.caches = new ClusterCaches(client, config.namespaces(), onChange);
    this.routes =
        new HttpRouteReconciler(
            client,
            config.namespaces(),
            xdsConfig.routingHeader(),
            config.conflictRetries(),
            metrics::conflict,
            onChange);
    this.reconciler =
        new Reconciler(
            caches,
            new DeploymentScaler(client, config.conflictRetries(), metrics::conflict),
            new SubresourceStatusWriter(client, config.conflictRetries(), metrics::conflict),
            new KubernetesEventRecorder(
                client, clock, config.eventDedupWindow(), config.leaderElection().identity()),
            xds,
            publisher,
            loads,
            metrics,
            clock,
            config,
            executor,
            routes,
            leaderLink,
            peers);
    holder[0] = reconciler;
    String self = config.leaderElection().identity();
    GpuMemoryObserver[] observerHolder = new GpuMemoryObserver[1];
    this.gpuObserver =
        new GpuMemoryObserver(
            HttpClient.newBuilder().connectTimeout(config.gpuObservation().timeout()).build(),
            config.gpuObservation().period(),
            config.gpuObservation().timeout(),
            config.gpuObservation().gpuMemoryPerDeviceBytes(),
            reconciler::gpuTargets,
            () -> reconciler.gpuMemoryObserved(observerHolder[0].observed()));
    observerHolder[0] = gpuObserver;
    this.election =
        new LeaderElection(
            client,
            config.leaderElection(),
            isLeader -> {
              leader = isLeader;
              if (isLeader) {
                leaderLink.leaderAt(Optional.empty());
              }
              reconciler.leadershipChanged(isLeader);
            },
            identity ->
                leaderLink.leaderAt(
                    identity.equals(self) ? Optional.empty() : leaderAddresses.resolve(identity)));
  }

  /**
   * The transport credentials of the xDS and link API servers (TLS from {@code IBC_TLS_DIR} in
   * {@code Main}); plaintext unless set. Call before {@link #start()}.
   */
  public synchronized BudgetController serverCredentials(ServerCredentials credentials) {
    this.serverCredentials = Objects.requireNonNull(credentials, "credentials");
    return this;
  }

  /**
   * How a standby dials the leader's link API (TLS client credentials and the authority its
   * certificate is checked against, from {@code IBC_TLS_DIR} and {@code IBC_PEER_TLS_AUTHORITY} in
   * {@code Main}); plaintext unless set. Call before {@link #start()}.
   */
  public BudgetController peerTransport(PeerTransport transport) {
    leaderLink.transport(transport);
    return this;
  }

  /** Starts serving: xDS, caches (waits for their first list), the link API, leader election. */
  public synchronized BudgetController start() throws IOException {
    xds.start(serverCredentials);
    routabilitySubscription = xds.addRoutabilityListener(reconciler::routabilityChanged);
    caches.start(Duration.ofSeconds(60));
    routes.start();
    apiServer =
        ControllerApiServer.start(
            new InetSocketAddress(config.bindAddress(), config.linkApiPort()),
            new ControllerApiService(publisher, loads, reconciler, clock, leaderLink, peers),
            serverCredentials);
    reconciler.requestCycle();
    election.start();
    if (config.gpuObservation().enabled()) {
      gpuObserver.start();
    }
    return this;
  }

  public boolean isLeader() {
    return leader;
  }

  public int xdsPort() {
    return xds.port();
  }

  public int linkApiPort() {
    return apiServer.port();
  }

  public XdsControlPlane xds() {
    return xds;
  }

  public ModelStatePublisher publisher() {
    return publisher;
  }

  public LoadAggregator loads() {
    return loads;
  }

  /** The leader's view of the standbys' Envoys. */
  public PeerRoutability peers() {
    return peers;
  }

  /** Whether this replica (a standby) republishes the leader's model states. */
  public boolean relaysLeader() {
    return leaderLink.relaying();
  }

  /** The GPU memory observer (tests call {@code round()} instead of waiting for its period). */
  public GpuMemoryObserver gpuObserver() {
    return gpuObserver;
  }

  public Reconciler reconciler() {
    return reconciler;
  }

  /** Asks for a decision cycle now (e.g. after a test advanced its clock). */
  public void requestCycle() {
    reconciler.requestCycle();
  }

  /** Stops campaigning (releasing the lease), the servers, the informers and the reconciler. */
  @Override
  public synchronized void close() throws InterruptedException {
    if (closed) {
      return;
    }
    closed = true;
    election.close();
    leaderLink.close();
    gpuObserver.close();
    if (apiServer != null) {
      apiServer.close();
    }
    if (routabilitySubscription != null) {
      try {
        routabilitySubscription.close();
      } catch (Exception e) {
        // nothing to release beyond the listener itself
      }
    }
    executor.shutdownNow();
    executor.awaitTermination(5, TimeUnit.SECONDS);
    caches.close();
    routes.close();
    xds.close();
  }

  KubernetesClient client() {
    return client;
  }
}
