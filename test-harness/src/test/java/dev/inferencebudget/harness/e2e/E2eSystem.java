package dev.inferencebudget.harness.e2e;

import dev.inferencebudget.controller.config.ControllerConfig;
import dev.inferencebudget.controller.k8s.BudgetController;
import dev.inferencebudget.extproc.api.ExtProcConfig;
import dev.inferencebudget.extproc.api.LoadSource;
import dev.inferencebudget.extproc.grpc.ExtProcServer;
import dev.inferencebudget.extproc.link.GrpcControllerLink;
import dev.inferencebudget.harness.cluster.EmbeddedApiServer;
import dev.inferencebudget.harness.cluster.SimulatedKubelet;
import dev.inferencebudget.harness.cluster.SimulatedKubeletConfig;
import dev.inferencebudget.harness.envoy.EnvoyStandIn;
import dev.inferencebudget.harness.envoy.EnvoyStandInConfig;
import dev.inferencebudget.harness.envoy.ExtProcFilterConfig;
import dev.inferencebudget.harness.xds.AdsClient;
import dev.inferencebudget.harness.xds.StandInXdsFeed;
import dev.inferencebudget.xds.api.XdsConfig;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The whole system on loopback for the scenarios: embedded API server with the simulated kubelet,
 * the real {@link BudgetController} (xDS + link API), the real {@link ExtProcServer} linked to it
 * over gRPC, and the Envoy stand-in fed over ADS, with short timings. Restarts keep the ports, as a
 * Kubernetes Service would keep the address.
 *
 * <p>TODO(#5): delegate to {@code harness.sandbox.Sandbox} once it offers the same hooks.
 */
final class E2eSystem implements AutoCloseable {

  static final String ROUTES = "llm_routes";

  /**
   * Timings for a run.
   *
   * @param startupGrace the controller's quiet time after (re)start, while ext-proc reconnects
   * @param debounce the controller's cycle debounce (a longer one puts concurrent activations in
   *     one decision)
   * @param terminationDelay how long a scaled-down pod keeps its GPU memory
   */
  record Timings(Duration startupGrace, Duration debounce, Duration terminationDelay) {
    Timings {
      Objects.requireNonNull(startupGrace, "startupGrace");
      Objects.requireNonNull(debounce, "debounce");
      Objects.requireNonNull(terminationDelay, "terminationDelay");
    }

    static Timings fast() {
      return new Timings(Duration.ZERO, Duration.ofMillis(20), Duration.ofMillis(300));
    }

    Timings withStartupGrace(Duration v) {
      return new Timings(v, debounce, terminationDelay);
    }

    Timings withDebounce(Duration v) {
      return new Timings(startupGrace, v, terminationDelay);
    }
  }

  /** Where the data plane's Envoy must connect: the controller's ADS and ext-proc's gRPC. */
  record Ports(int xdsPort, int extProcPort) {}

  /** A data plane other than the stand-in (a real Envoy): its OpenAI base URL and its end. */
  interface DataPlane extends AutoCloseable {
    String baseUrl();
  }

  private final Timings timings;
  private final KubernetesClient client;
  private final AutoCloseable apiServer;
  private final Vertx vertx;
  private final SimulatedKubelet kubelet;
  private final EnvoyStandIn envoy;
  private final DataPlane externalDataPlane;
  private volatile BudgetController controller;
  private volatile int xdsPort;
  private volatile int linkPort;
  private volatile int extProcPort;
  private AdsClient ads;
  private StandInXdsFeed feed;
  private ExtProcServer extProc;
  private GrpcControllerLink link;
  private ManagedChannel linkChannel;
  private ScheduledExecutorService linkExecutor;

  private E2eSystem(
      Timings timings,
      KubernetesClient client,
      AutoCloseable apiServer,
      Function<Ports, DataPlane> dataPlane)
      throws Exception {
    this.timings = timings;
    this.client = client;
    this.apiServer = apiServer;
    long t0 = System.nanoTime();
    registerCrds(client);
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2).setWorkerPoolSize(1));
    this.kubelet =
        SimulatedKubelet.start(
            client,
            vertx,
            SimulatedKubeletConfig.defaults().withTerminationDelay(timings.terminationDelay()),
            InstantSource.system());
    long t1 = System.nanoTime();
    startController(0, 0);
    long t2 = System.nanoTime();
    startExtProc(0);
    long t3 = System.nanoTime();
    if (dataPlane == null) {
      this.externalDataPlane = null;
      this.envoy =
          EnvoyStandIn.start(
              EnvoyStandInConfig.builder()
                  .perConnectionBufferLimitBytes(16 * 1024 * 1024)
                  .streamIdleTimeout(Duration.ofSeconds(120))
                  .extProc(
                      ExtProcFilterConfig.builder()
                          .bodyModes(BodySendMode.BUFFERED, BodySendMode.STREAMED)
                          .messageTimeout(Duration.ofSeconds(5))
                          .maxMessageTimeout(Duration.ofSeconds(120))
                          .receivingNamespaces(List.of("envoy.lb"))
                          .build(),
                      new InetSocketAddress("127.0.0.1", extProcPort))
                  .build(),
              vertx);
      connectEnvoy();
    } else {
      this.envoy = null;
      this.externalDataPlane = dataPlane.apply(new Ports(xdsPort, extProcPort));
    }
    System.out.printf(
        "e2e system started in %d ms (API server and kubelet %d, controller %d, ext-proc %d,"
            + " data plane %d)%n",
        (System.nanoTime() - t0) / 1_000_000,
        (t1 - t0) / 1_000_000,
        (t2 - t1) / 1_000_000,
        (t3 - t2) / 1_000_000,
        (System.nanoTime() - t3) / 1_000_000);
  }

  /** On the embedded API server (fabric8 CRUD mock), with the Envoy stand-in fed over ADS. */
  static E2eSystem start(Timings timings) throws Exception {
    EmbeddedApiServer apiServer = EmbeddedApiServer.start();
    return new E2eSystem(
        Objects.requireNonNull(timings, "timings"), apiServer.client(), apiServer, null);
  }

  /**
   * On an API server of the caller's (e.g. K3s) with a data plane of the caller's (e.g. a real
   * Envoy), which the caller starts once the controller's and ext-proc's ports are known. Both are
   * closed with the system.
   */
  static E2eSystem start(
      Timings timings,
      KubernetesClient client,
      AutoCloseable apiServer,
      Function<Ports, DataPlane> dataPlane)
      throws Exception {
    return new E2eSystem(
        Objects.requireNonNull(timings, "timings"),
        Objects.requireNonNull(client, "client"),
        Objects.requireNonNull(apiServer, "apiServer"),
        Objects.requireNonNull(dataPlane, "dataPlane"));
  }

  /** The OpenAI base URL clients use: the data plane's listener. */
  String baseUrl() {
    return envoy != null ? envoy.baseUrl() + "/v1" : externalDataPlane.baseUrl();
  }

  KubernetesClient client() {
    return client;
  }

  BudgetController controller() {
    return controller;
  }

  synchronized ExtProcServer extProc() {
    return extProc;
  }

  /** The Envoy stand-in, when the data plane is the stand-in (its access log, clusters). */
  Optional<EnvoyStandIn> standIn() {
    return Optional.ofNullable(envoy);
  }

  /** ext-proc's model table, as its controller link last received it. */
  synchronized dev.inferencebudget.extproc.api.ModelTable extProcTable() {
    return link.current();
  }

  /** Stops the controller and starts a fresh one on the same ports; Envoy reconnects its ADS. */
  synchronized void restartController() throws Exception {
    if (envoy != null) {
      feed.close();
      ads.close();
    }
    controller.close();
    startController(xdsPort, linkPort);
    if (envoy != null) {
      connectEnvoy();
    }
    // A real Envoy reconnects its ADS stream by itself.
  }

  /** Stops ext-proc (its gRPC server and link) and starts a fresh one on the same port. */
  synchronized void restartExtProc() throws Exception {
    stopExtProc();
    startExtProc(extProcPort);
  }

  private void startController(int xds, int linkApi) throws IOException {
    ControllerConfig d = ControllerConfig.defaults();
    Duration tick = Duration.ofMillis(Math.max(200, 2 * timings.debounce().toMillis()));
    ControllerConfig config =
        d.withPorts("127.0.0.1", xds, linkApi, 0)
            .withTiming(timings.debounce(), tick)
            .withStartupGrace(timings.startupGrace())
            .withLeaderElection(
                d.leaderElection().withIdentity("controller-e2e").withEnabled(false));
    controller =
        new BudgetController(
                client,
                config,
                XdsConfig.defaults().withListenAddress("127.0.0.1", xds),
                Clock.systemUTC(),
                new PrometheusRegistry())
            .start();
    xdsPort = controller.xdsPort();
    linkPort = controller.linkApiPort();
  }

  private void connectEnvoy() {
    ads =
        AdsClient.connect(
            "127.0.0.1", xdsPort, AdsClient.Options.standaloneEnvoy("envoy-e2e", ROUTES));
    feed = StandInXdsFeed.attach(ads, ROUTES, envoy.routes(), envoy.clusters());
  }

  private void startExtProc(int port) throws IOException {
    Duration hold = Duration.ofSeconds(120);
    ExtProcConfig config =
        ExtProcConfig.defaults()
            .withGrpcPort(port)
            .withMetricsPort(-1)
            .withReplicaName("ext-proc-e2e")
            .withTimeouts(hold, hold);
    config =
        new ExtProcConfig(
            "127.0.0.1",
            config.grpcPort(),
            config.metricsPort(),
            config.replicaName(),
            config.routingMode(),
            config.routingHeader(),
            config.maxRequestBodyBytes(),
            config.maxMessageTimeout(),
            config.holdOverrideTimeout(),
            config.tenantHeaderDefault(),
            config.priorityHeader(),
            config.tokenizerDirectory());
    AtomicReference<LoadSource> load = new AtomicReference<>(List::of);
    linkChannel = NettyChannelBuilder.forAddress("127.0.0.1", linkPort).usePlaintext().build();
    linkExecutor = Executors.newSingleThreadScheduledExecutor();
    link =
        new GrpcControllerLink(
            linkChannel,
            () -> load.get().drainWindow(),
            GrpcControllerLink.Settings.defaults(config.replicaName())
                .withReportInterval(Duration.ofMillis(200))
                .withBackoff(Duration.ofMillis(50), Duration.ofMillis(500)),
            linkExecutor,
            Clock.systemUTC());
    extProc = ExtProcServer.builder(config).modelStates(link).controllerLink(link).build();
    load.set(extProc.loadSource());
    link.start();
    extProc.start();
    extProcPort = extProc.port();
  }

  private void stopExtProc() throws Exception {
    extProc.close();
    link.close();
    linkChannel.shutdownNow();
    linkExecutor.shutdownNow();
  }

  /** The CRDs as the Helm chart ships them (with their status subresource). */
  private static void registerCrds(KubernetesClient client) throws IOException {
    Path crds = Path.of("..", "charts", "inference-budget-controller", "crds");
    try (Stream<Path> files = Files.list(crds)) {
      for (Path file : files.sorted().toList()) {
        try (var in = Files.newInputStream(file)) {
          var crd = client.apiextensions().v1().customResourceDefinitions().load(in).create();
          // A real API server serves a CRD's resources only once it is Established.
          client
              .apiextensions()
              .v1()
              .customResourceDefinitions()
              .resource(crd)
              .waitUntilCondition(
                  c ->
                      c.getStatus() == null
                          || c.getStatus().getConditions() == null
                          || c.getStatus().getConditions().isEmpty()
                          || c.getStatus().getConditions().stream()
                              .anyMatch(
                                  k ->
                                      "Established".equals(k.getType())
                                          && "True".equals(k.getStatus())),
                  30,
                  TimeUnit.SECONDS);
        }
      }
    }
  }

  @Override
  public synchronized void close() throws Exception {
    if (envoy != null) {
      envoy.close();
      feed.close();
      ads.close();
    } else {
      externalDataPlane.close();
    }
    stopExtProc();
    controller.close();
    kubelet.close();
    vertx.close().toCompletionStage().toCompletableFuture().join();
    apiServer.close();
  }
}
