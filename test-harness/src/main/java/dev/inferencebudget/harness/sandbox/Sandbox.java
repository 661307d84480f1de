package dev.inferencebudget.harness.sandbox;

import dev.inferencebudget.controller.api.Quantities;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudget;
import dev.inferencebudget.controller.config.ControllerConfig;
import dev.inferencebudget.controller.k8s.BudgetController;
import dev.inferencebudget.extproc.api.ExtProcConfig;
import dev.inferencebudget.extproc.api.LoadSource;
import dev.inferencebudget.extproc.api.ModelTable;
import dev.inferencebudget.extproc.grpc.ExtProcServer;
import dev.inferencebudget.extproc.link.GrpcControllerLink;
import dev.inferencebudget.harness.cluster.Crds;
import dev.inferencebudget.harness.cluster.SimulatedCluster;
import dev.inferencebudget.harness.cluster.SimulatedKubelet;
import dev.inferencebudget.harness.cluster.SimulatedKubeletConfig;
import dev.inferencebudget.harness.envoy.Cluster;
import dev.inferencebudget.harness.envoy.EnvoyStandIn;
import dev.inferencebudget.harness.envoy.EnvoyStandInConfig;
import dev.inferencebudget.harness.envoy.ExtProcFilterConfig;
import dev.inferencebudget.harness.envoy.Route;
import dev.inferencebudget.harness.vllm.VllmSimulatorConfig;
import dev.inferencebudget.harness.xds.AdsClient;
import dev.inferencebudget.harness.xds.StandInXdsFeed;
import dev.inferencebudget.xds.api.XdsConfig;
import dev.inferencebudget.xds.server.AdsCache;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole system on one machine, wired as in production: an embedded API server with the CRDs, a
 * simulated cluster (each Deployment replica a vLLM simulator on loopback), the real {@link
 * BudgetController} (xDS server and link API), the real {@link ExtProcServer} linked to it over
 * gRPC ({@link GrpcControllerLink}), and the data plane: the {@link EnvoyStandIn} with the ext_proc
 * filter of {@code envoy/envoy.yaml}, fed over ADS from the controller's xDS server like Envoy (or
 * a real {@code envoy} binary, see {@link SandboxConfig#envoyBinary()}). The examples (or the
 * configured manifests) are applied and every model starts at zero replicas.
 *
 * <p>{@link #builder} also takes an API server and a data plane of the caller's instead of the
 * embedded one and the stand-in (the Testcontainers scenarios: K3s and the {@code envoyproxy/envoy}
 * image); the controller, ext-proc and the simulated kubelet always run in this JVM.
 *
 * <pre>{@code
 * try (Sandbox sandbox = Sandbox.start(SandboxConfig.forTests().withIdleTimeout(Duration.ofSeconds(2)))) {
 *   OpenAIClient openAi = OpenAIOkHttpClient.builder().baseUrl(sandbox.baseUrl()).apiKey("sk-a").build();
 *   openAi.chat().completions().create(...);   // model "qwen2.5-32b": held, cold-started, served
 *   sandbox.state();                           // models, replicas, reserved memory, held requests
 *   sandbox.restartController();               // same ports; ext-proc and the data plane reconnect
 *   sandbox.restartExtProc();
 * }
 * }</pre>
 *
 * <p>{@link #start} returns when a request can be sent: the data plane has every model's route and
 * ext-proc has every model in its table. Thread-safe; {@link #restartController()} and {@link
 * #restartExtProc()} swap components, so read them through the accessors each time.
 */
public final class Sandbox implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Sandbox.class);

  /** The OpenAI {@code model} routing to a cold model in the examples (priority 500, 80Gi). */
  public static final String EXAMPLE_COLD_MODEL = "qwen2.5-32b";

  /** The route table name shared by the xDS server and the data plane. */
  static final String ROUTE_CONFIG_NAME = XdsConfig.DEFAULT_ROUTE_CONFIG_NAME;

  private static final String EXT_PROC_REPLICA = "ext-proc-0";
  private static final String ENVOY_NODE_ID = "sandbox-envoy";
  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
  private final SandboxConfig config;
  private final Consumer<String> progress;
  private final Supplier<ApiServer> externalApiServer;
  private final DataPlane.Factory dataPlaneFactory;

  /** The embedded API server with the kubelet; null with an external API server. */
  private volatile SimulatedCluster cluster;

  /** The caller's API server; null with the embedded one. */
  private volatile ApiServer apiServer;

  /** Runs the simulators of the kubelet on the caller's API server (SimulatedCluster's own). */
  private volatile Vertx vertx;

  private volatile KubernetesClient client;
  private volatile SimulatedKubelet kubelet;
  private volatile ControllerInstance controller;
  private volatile ExtProcInstance extProc;
  private volatile EnvoyStandIn standIn;
  private volatile DataPlaneFeed feed;
  private volatile DataPlane dataPlane;
  private int controllerGeneration;
  private volatile int xdsPort;
  private volatile int linkApiPort;
  private volatile int extProcPort;
  private boolean closed;

  private Sandbox(
      SandboxConfig config,
      Consumer<String> progress,
      Supplier<ApiServer> externalApiServer,
      DataPlane.Factory dataPlaneFactory) {
    this.config = config;
    this.progress = progress;
    this.externalApiServer = externalApiServer;
    this.dataPlaneFactory =
        dataPlaneFactory != null
            ? dataPlaneFactory
            : config
                .envoyBinary()
                .<DataPlane.Factory>map(
                    binary -> ports -> EnvoyProcess.start(binary, config.envoyBootstrap(), ports))
                .orElse(null);
    this.xdsPort = config.xdsPort();
    this.linkApiPort = config.linkApiPort();
    this.extProcPort = config.extProcPort();
  }

  /** Starts everything and applies the manifests; see the class comment. */
  public static Sandbox start(SandboxConfig config) {
    return start(config, message -> log.info("sandbox: {}", message));
  }

  /**
   * Like {@link #start(SandboxConfig)}, reporting each step to {@code progress} ("starting API
   * server", ...).
   */
  public static Sandbox start(SandboxConfig config, Consumer<String> progress) {
    return builder(config).progress(progress).start();
  }

  /** A sandbox with parts of the caller's: see {@link Builder}. */
  public static Builder builder(SandboxConfig config) {
    return new Builder(config);
  }

  /**
   * Starts a sandbox, optionally on an API server and with a data plane of the caller's.
   *
   * <pre>{@code
   * Sandbox.builder(SandboxConfig.forTests().withManifests(List.of()))
   *     .progress(System.out::println)
   *     .apiServer(() -> ApiServer.of(k3sClient, k3s::stop))   // instead of the embedded mock
   *     .dataPlane(ports -> startEnvoyContainer(ports))        // instead of the stand-in
   *     .start();
   * }</pre>
   */
  public static final class Builder {
    private final SandboxConfig config;
    private Consumer<String> progress = message -> log.info("sandbox: {}", message);
    private Supplier<ApiServer> apiServer;
    private DataPlane.Factory dataPlane;

    private Builder(SandboxConfig config) {
      this.config = Objects.requireNonNull(config, "config");
    }

    /** Where each start-up step is reported ("starting API server", ...); default: the log. */
    public Builder progress(Consumer<String> v) {
      this.progress = Objects.requireNonNull(v, "progress");
      return this;
    }

    /**
     * An API server of the caller's instead of the embedded one, started first; closed with the
     * sandbox (also when the start fails after it).
     */
    public Builder apiServer(Supplier<ApiServer> v) {
      this.apiServer = Objects.requireNonNull(v, "apiServer");
      return this;
    }

    /**
     * A data plane of the caller's instead of the stand-in (not with {@link
     * SandboxConfig#envoyBinary()}), started once the xDS server and ext-proc are bound.
     */
    public Builder dataPlane(DataPlane.Factory v) {
      this.dataPlane = Objects.requireNonNull(v, "dataPlane");
      return this;
    }

    /** Starts everything and applies the manifests; see the class comment. */
    public Sandbox start() {
      config.validate();
      if (dataPlane != null && config.envoyBinary().isPresent()) {
        throw new IllegalArgumentException(
            "invalid sandbox: a data plane factory and envoyBinary are both set");
      }
      Sandbox sandbox = new Sandbox(config, progress, apiServer, dataPlane);
      try {
        sandbox.startAll();
        return sandbox;
      } catch (RuntimeException | Error e) {
        sandbox.close();
        throw e;
      }
    }
  }

  /**
   * With fixed ports (the command) ext-proc and the stand-in start while the API server and the
   * controller do: each takes seconds of class loading on a busy machine, and neither needs the
   * other to bind (ext-proc's link connects with backoff). With port 0 (tests) a component needs
   * the bound port of the one before it, so they start in order.
   */
  private void startAll() {
    ExecutorService starter =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "sandbox-start");
              t.setDaemon(true);
              return t;
            });
    CompletableFuture<ExtProcInstance> earlyExtProc = null;
    CompletableFuture<EnvoyStandIn> earlyStandIn = null;
    try {
      if (linkApiPort != 0) {
        progress.accept("starting ext-proc (in parallel)");
        earlyExtProc = CompletableFuture.supplyAsync(this::startExtProc, starter);
      }
      if (extProcPort != 0 && dataPlaneFactory == null) {
        progress.accept("starting data plane: Envoy stand-in (in parallel)");
        earlyStandIn = CompletableFuture.supplyAsync(this::startStandIn, starter);
      }
      SimulatedKubeletConfig kubeletConfig =
          SimulatedKubeletConfig.defaults()
              .withTerminationDelay(config.terminationDelay())
              .withSimulatorDefaults(
                  VllmSimulatorConfig.defaults().withLoadTime(config.modelLoadTime()));
      if (externalApiServer == null) {
        progress.accept("starting API server and simulated cluster");
        cluster = SimulatedCluster.start(kubeletConfig);
        client = cluster.client();
        kubelet = cluster.kubelet();
      } else {
        progress.accept("starting the external API server and the simulated kubelet");
        apiServer = Objects.requireNonNull(externalApiServer.get(), "the API server supplied");
        client = apiServer.client();
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2).setWorkerPoolSize(1));
        kubelet =
            SimulatedKubelet.start(
                client, vertx, kubeletConfig.validate(), java.time.InstantSource.system());
      }
      Crds.register(client, STARTUP_TIMEOUT);
      progress.accept("applying manifests " + config.manifests());
      applyObjects(Manifests.read(client, config.manifests()));
      progress.accept("starting controller (xDS + link API)");
      controller = startController();
      xdsPort = controller.controller.xdsPort();
      linkApiPort = controller.controller.linkApiPort();
      if (earlyExtProc == null) {
        progress.accept("starting ext-proc");
        extProc = startExtProc();
      } else {
        extProc = join(earlyExtProc);
      }
      // only now: the link would otherwise log a failed connection per backoff step
      extProc.link.start();
      extProcPort = extProc.server.port();
      if (dataPlaneFactory != null) {
        progress.accept(
            "starting data plane: "
                + config.envoyBinary().map(b -> "envoy " + b).orElse("the caller's")
                + " (xDS "
                + config.host()
                + ":"
                + xdsPort
                + ", ext_proc "
                + config.host()
                + ":"
                + extProcPort
                + ")");
        dataPlane =
            dataPlaneFactory.start(
                new DataPlane.Ports(config.host(), config.dataPlanePort(), xdsPort, extProcPort));
        awaitDataPlaneSynced();
      } else {
        if (earlyStandIn == null) {
          progress.accept("starting data plane: Envoy stand-in");
          standIn = startStandIn();
        } else {
          standIn = join(earlyStandIn);
        }
        progress.accept("connecting the data plane to the xDS server (ADS)");
        feed = DataPlaneFeed.connect(config.host(), xdsPort, standIn);
        awaitRoutes();
      }
      progress.accept("waiting for ext-proc's model table");
      awaitExtProcTable();
      awaitLeader();
    } catch (RuntimeException | Error e) {
      // a component started in parallel and not yet handed over must be closed too
      if (earlyExtProc != null && extProc == null) {
        earlyExtProc.thenAccept(ExtProcInstance::close);
      }
      if (earlyStandIn != null && standIn == null) {
        earlyStandIn.thenAccept(EnvoyStandIn::close);
      }
      throw e;
    } finally {
      starter.shutdown();
    }
  }

  private static <T> T join(CompletableFuture<T> future) {
    try {
      return future.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    }
  }

  private EnvoyStandIn startStandIn() {
    EnvoyStandIn started = EnvoyStandIn.start(standInConfig());
    started.clusters().update(Cluster.originalDestination("original_destination_cluster"));
    return started;
  }

  // ---- what tests read ----

  /** The OpenAI base URL, e.g. {@code http://127.0.0.1:8080/v1}. */
  public String baseUrl() {
    return dataPlaneUrl() + "/v1";
  }

  /** The data plane's root URL, e.g. {@code http://127.0.0.1:8080}. */
  public String dataPlaneUrl() {
    return "http://" + config.host() + ":" + dataPlanePort();
  }

  /** The data plane's bound port. */
  public int dataPlanePort() {
    if (standIn != null) {
      return standIn.port();
    }
    return dataPlane != null ? dataPlane.port() : config.dataPlanePort();
  }

  public SandboxConfig config() {
    return config;
  }

  /** A client of the API server (shared; closed with the sandbox). */
  public KubernetesClient client() {
    return client;
  }

  /**
   * The embedded API server, the kubelet and its simulated replicas.
   *
   * @throws IllegalStateException when the API server is the caller's ({@link Builder#apiServer});
   *     {@link #client()} and {@link #kubelet()} work either way
   */
  public SimulatedCluster cluster() {
    if (cluster == null) {
      throw new IllegalStateException("the API server is the caller's, not the embedded one");
    }
    return cluster;
  }

  /** The simulated kubelet and its replicas (vLLM simulators). */
  public SimulatedKubelet kubelet() {
    return kubelet;
  }

  /** The running controller (a new object after {@link #restartController()}). */
  public BudgetController controller() {
    return controller.controller;
  }

  /** The running ext-proc server (a new object after {@link #restartExtProc()}). */
  public ExtProcServer extProc() {
    return extProc.server;
  }

  /** ext-proc's link to the controller (model table, activations, load reports). */
  public GrpcControllerLink extProcLink() {
    return extProc.link;
  }

  /**
   * The Envoy stand-in (routes, clusters, access log, ext_proc stats).
   *
   * @throws IllegalStateException when a real Envoy runs instead
   */
  public EnvoyStandIn standIn() {
    if (standIn == null) {
      throw new IllegalStateException("a real envoy binary is the data plane, not the stand-in");
    }
    return standIn;
  }

  /** The Envoy stand-in when it is the data plane; empty when a real Envoy is. */
  public Optional<EnvoyStandIn> standInIfRunning() {
    return Optional.ofNullable(standIn);
  }

  /**
   * The stand-in's ADS client (what it accepted from the xDS server).
   *
   * @throws IllegalStateException when a real Envoy runs instead
   */
  public AdsClient adsClient() {
    standIn();
    return feed.ads;
  }

  /** Ports: xDS, link API, ext-proc (fixed across restarts). */
  public int xdsPort() {
    return xdsPort;
  }

  public int linkApiPort() {
    return linkApiPort;
  }

  public int extProcPort() {
    return extProcPort;
  }

  /**
   * Applies manifests (YAML files or directories) the way the sandbox applied the examples:
   * created, or updated if they exist, with the simulator annotations added (see {@link
   * Manifests}). Returns once ext-proc knows every BudgetedModel.
   */
  public void apply(Path... manifests) {
    apply(Manifests.read(client, List.of(manifests)));
  }

  /**
   * Applies YAML text (one or more documents), like {@link #apply(Path...)}; e.g. a test's own
   * budget and models.
   */
  public void applyYaml(String yaml) {
    apply(
        client
            .load(
                new java.io.ByteArrayInputStream(
                    yaml.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
            .items());
  }

  /**
   * Applies objects, adapted for the simulated cluster like the manifests. Returns once ext-proc
   * knows every BudgetedModel (so a request for a new model is not answered 404).
   */
  public void apply(List<HasMetadata> objects) {
    applyObjects(objects);
    if (extProc != null) {
      awaitExtProcTable();
    }
  }

  private void applyObjects(List<HasMetadata> objects) {
    for (HasMetadata object :
        Manifests.prepare(objects, config, client.getKubernetesSerialization())) {
      client
          .resource(object)
          .createOr(
              existing -> {
                // keep the controller's replica count: a re-applied Deployment must not reset it
                if (object instanceof Deployment d && d.getSpec() != null) {
                  d.getSpec().setReplicas(null);
                  return existing.patch(PatchContext.of(PatchType.JSON_MERGE), object);
                }
                return existing.update();
              });
    }
  }

  /**
   * What an operator would see now: models (state, desired/ready replicas, held requests), budgets
   * (total, reserved, occupied memory) and held requests. Reads the API server and the simulated
   * replicas; a few milliseconds.
   */
  public SandboxState state() {
    ExtProcServer server = extProc.server;
    List<SandboxState.Model> models = new ArrayList<>();
    Map<String, Long> occupiedByBudget = new HashMap<>();
    for (BudgetedModel m :
        client.resources(BudgetedModel.class).inAnyNamespace().list().getItems()) {
      String ns = m.getMetadata().getNamespace();
      String key = ns + "/" + m.getMetadata().getName();
      var spec = m.getSpec();
      String target = spec.targetRef() == null ? "" : spec.targetRef().name();
      String budget = ns + "/" + (spec.budgetRef() == null ? "" : spec.budgetRef().name());
      Deployment deployment = client.apps().deployments().inNamespace(ns).withName(target).get();
      int desired =
          deployment == null || deployment.getSpec() == null
              ? 0
              : Optional.ofNullable(deployment.getSpec().getReplicas()).orElse(1);
      var replicas = kubelet.replicas(ns, target);
      int running = (int) replicas.stream().filter(r -> !r.terminating()).count();
      int ready = (int) replicas.stream().filter(SimulatedKubelet.Replica::ready).count();
      int terminating = replicas.size() - running;
      long perReplica;
      try {
        perReplica = spec.gpuMemoryPerReplicaBytes();
      } catch (IllegalArgumentException invalid) {
        perReplica = 0;
      }
      String state =
          m.getStatus() == null || m.getStatus().state() == null
              ? ""
              : statusName(m.getStatus().state().name());
      SandboxState.Model model =
          new SandboxState.Model(
              key,
              spec.modelNames(),
              budget,
              state,
              desired,
              running,
              ready,
              terminating,
              perReplica,
              server.engine().holds().held(key));
      models.add(model);
      occupiedByBudget.merge(budget, model.occupiedGpuMemoryBytes(), Long::sum);
    }
    List<SandboxState.Budget> budgets = new ArrayList<>();
    for (InferenceBudget b :
        client.resources(InferenceBudget.class).inAnyNamespace().list().getItems()) {
      String key = b.getMetadata().getNamespace() + "/" + b.getMetadata().getName();
      long total;
      try {
        total = b.getSpec().gpuMemoryBytes();
      } catch (RuntimeException invalid) {
        total = 0;
      }
      var status = b.getStatus();
      long reserved =
          status == null || status.reservedGpuMemory() == null
              ? 0
              : Quantities.toBytes(status.reservedGpuMemory(), "status.reservedGpuMemory");
      String state =
          status == null || status.state() == null ? "" : statusName(status.state().name());
      budgets.add(
          new SandboxState.Budget(
              key, total, reserved, occupiedByBudget.getOrDefault(key, 0L), state));
    }
    models.sort(Comparator.comparing(SandboxState.Model::key));
    budgets.sort(Comparator.comparing(SandboxState.Budget::key));
    return new SandboxState(models, budgets, server.engine().holds().heldTotal());
  }

  /** {@code COLD_STARTING} → {@code ColdStarting}, as the CRDs spell states. */
  private static String statusName(String enumName) {
    StringBuilder out = new StringBuilder();
    for (String part : enumName.toLowerCase(Locale.ROOT).split("_")) {
      out.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
    }
    return out.toString();
  }

  /**
   * Returns once the controller counts {@code modelKey} as idle, the condition for preempting it:
   * ext-proc has reported a request that arrived at or after {@code lastRequestSentAt} and nothing
   * in flight, queued or held, and decision cycles have consumed that report (a cycle that still
   * sees the report's arrivals counts the model busy). Runs those cycles itself instead of waiting
   * for the controller's tick.
   *
   * @param lastRequestSentAt when the caller sent its last request to the model (system clock)
   * @throws IllegalStateException after {@code timeout}
   */
  public void awaitIdleInController(String modelKey, Instant lastRequestSentAt, Duration timeout)
      throws InterruptedException {
    Objects.requireNonNull(modelKey, "modelKey");
    Objects.requireNonNull(lastRequestSentAt, "lastRequestSentAt");
    // The link reports once a second and has no listener on the controller side: poll.
    try {
      Awaitility.await("ext-proc reports " + modelKey + " idle")
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(50))
          .until(
              () -> {
                var view = controller().loads().snapshot().get(modelKey);
                return view != null
                    && view.lastRequest() != null
                    && !view.lastRequest().isBefore(lastRequestSentAt)
                    && view.inFlight() == 0
                    && view.queued() == 0
                    && view.held() == 0;
              });
    } catch (ConditionTimeoutException e) {
      throw new IllegalStateException(
          "timed out after " + timeout + " waiting for ext-proc to report " + modelKey + " idle",
          e);
    }
    // The first cycle consumes the window holding the arrivals, the second sees an empty one.
    controller().reconciler().cycleAndWait();
    controller().reconciler().cycleAndWait();
  }

  // ---- restarts ----

  /**
   * Stops the controller and starts a new one on the same ports (as a restarted pod would): it
   * rebuilds its state from status, ext-proc's link reconnects by itself (backoff 100 ms to 1 s),
   * and the data plane reconnects its ADS stream. Returns once the new controller serves and the
   * data plane has its routes again (a real Envoy, which reconnects by itself: has synced with the
   * new controller); ext-proc may still be reconnecting (see {@link
   * GrpcControllerLink#connected()}). With leader election on it also waits for the new controller
   * to acquire the Lease (the old one released it); its {@code startupGrace} then still runs.
   */
  public synchronized void restartController() throws InterruptedException {
    controller.close();
    if (feed != null) {
      feed.close();
      feed = null;
    }
    controller = startController();
    if (standIn != null) {
      feed = DataPlaneFeed.connect(config.host(), xdsPort, standIn);
      awaitRoutes();
    } else {
      awaitDataPlaneSynced();
    }
    awaitLeader();
  }

  /**
   * Stops ext-proc (streams in flight end: the data plane answers them with its {@code
   * status_on_error}, 500) and starts a new one on the same port with a new link to the controller.
   * Returns once the new server serves and has the controller's model table.
   */
  public synchronized void restartExtProc() {
    extProc.close();
    extProc = startExtProc();
    extProc.link.start();
    awaitExtProcTable();
  }

  // ---- wiring ----

  private ControllerInstance startController() {
    controllerGeneration++;
    ControllerConfig defaults = ControllerConfig.defaults();
    ControllerConfig controllerConfig =
        defaults
            .withPorts(config.host(), xdsPort, linkApiPort, 0)
            .withTiming(config.debounce(), config.tick())
            .withStartupGrace(config.startupGrace())
            .withLeaderElection(
                defaults
                    .leaderElection()
                    .withIdentity("sandbox-controller-" + controllerGeneration)
                    .withEnabled(config.leaderElection()));
    XdsConfig xds = XdsConfig.defaults().withListenAddress(config.host(), xdsPort);
    // A fresh registry each time: a restarted controller registers its metrics again.
    BudgetController started =
        new BudgetController(
            client, controllerConfig, xds, Clock.systemUTC(), new PrometheusRegistry());
    try {
      started.start();
    } catch (IOException e) {
      try {
        started.close();
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
      }
      throw new UncheckedIOException("controller did not start", e);
    }
    return new ControllerInstance(started);
  }

  /** Builds and binds ext-proc; its link to the controller is started by the caller. */
  private ExtProcInstance startExtProc() {
    ExtProcConfig d = ExtProcConfig.defaults();
    ExtProcConfig extProcConfig =
        new ExtProcConfig(
                config.host(),
                extProcPort,
                -1,
                EXT_PROC_REPLICA,
                d.routingMode(),
                d.routingHeader(),
                d.maxRequestBodyBytes(),
                d.maxMessageTimeout(),
                d.holdOverrideTimeout(),
                d.tenantHeaderDefault(),
                d.priorityHeader(),
                Optional.empty())
            .validate();
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(config.host(), linkApiPort).usePlaintext().build();
    ScheduledExecutorService linkExecutor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "sandbox-ext-proc-link");
              t.setDaemon(true);
              return t;
            });
    // The link reports the server's load and the server reads the link's table: tie the knot
    // through a reference set once the server exists (as ext-proc's Main does).
    AtomicReference<LoadSource> load = new AtomicReference<>(List::of);
    GrpcControllerLink link =
        new GrpcControllerLink(
            channel,
            () -> load.get().drainWindow(),
            GrpcControllerLink.Settings.defaults(EXT_PROC_REPLICA)
                .withReportInterval(config.loadReportInterval())
                .withBackoff(Duration.ofMillis(100), Duration.ofSeconds(1)),
            linkExecutor,
            Clock.systemUTC());
    ExtProcServer server =
        ExtProcServer.builder(extProcConfig).modelStates(link).controllerLink(link).build();
    load.set(server.loadSource());
    ExtProcInstance instance = new ExtProcInstance(server, link, channel, linkExecutor);
    try {
      server.start();
    } catch (IOException | RuntimeException e) {
      instance.close();
      throw new IllegalStateException("ext-proc did not start on port " + extProcPort, e);
    }
    return instance;
  }

  /** The stand-in configured as the listener, HCM and ext_proc filter of envoy/envoy.yaml. */
  private EnvoyStandInConfig standInConfig() {
    return EnvoyStandInConfig.builder()
        .listenHost(config.host())
        .listenPort(config.dataPlanePort())
        .perConnectionBufferLimitBytes(16 * 1024 * 1024)
        .streamIdleTimeout(Duration.ofSeconds(1800))
        .extProc(
            ExtProcFilterConfig.builder()
                .bodyModes(BodySendMode.BUFFERED, BodySendMode.STREAMED)
                .failureModeAllow(false)
                .messageTimeout(Duration.ofSeconds(10))
                .maxMessageTimeout(Duration.ofSeconds(900))
                .requestAttributes(List.of("request.path", "request.method", "request.id"))
                .receivingNamespaces(List.of(ExtProcConfig.ENVOY_LB_NAMESPACE))
                .extProcMaxRequests(40_000)
                .build(),
            new InetSocketAddress(config.host(), extProcPort))
        .build();
  }

  private Set<String> modelKeys() {
    Set<String> keys = new TreeSet<>();
    for (BudgetedModel m :
        client.resources(BudgetedModel.class).inAnyNamespace().list().getItems()) {
      keys.add(m.getMetadata().getNamespace() + "/" + m.getMetadata().getName());
    }
    return keys;
  }

  /** Until the stand-in routes every BudgetedModel (its route table came over ADS). */
  private void awaitRoutes() {
    Set<String> keys = modelKeys();
    EnvoyStandIn target = standIn;
    DataPlaneFeed current = feed;
    awaitTrue(
        "the data plane to receive the routes of " + keys + " over ADS",
        () ->
            target.routes().routes().stream()
                .map(Route::name)
                .collect(java.util.stream.Collectors.toSet())
                .containsAll(keys),
        tick -> {
          Consumer<dev.inferencebudget.harness.xds.ReceivedResponse> listener = r -> tick.run();
          current.ads.addListener(listener);
          return () -> current.ads.removeListener(listener);
        });
  }

  /**
   * Until the controller holds the Lease (with leader election on): before that it writes nothing,
   * so a request would be held for the election on top of the cold start.
   */
  private void awaitLeader() {
    if (!config.leaderElection()) {
      return;
    }
    BudgetController current = controller.controller;
    if (!current.isLeader()) {
      progress.accept("waiting for the controller to acquire its Lease");
    }
    // LeaderElection reports to the controller only; nothing to subscribe to from here.
    awaitTrue(
        "the controller to become the leader",
        current::isLeader,
        tick -> pollEvery(Duration.ofMillis(20), tick));
  }

  /** Until ext-proc's table (from the controller) has every BudgetedModel. */
  private void awaitExtProcTable() {
    Set<String> keys = modelKeys();
    GrpcControllerLink link = extProc.link;
    awaitTrue(
        "ext-proc to receive the model table " + keys + " from the controller",
        () -> {
          Set<String> known = new TreeSet<>();
          link.current().models().forEach(m -> known.add(m.key()));
          return known.containsAll(keys);
        },
        tick -> {
          Consumer<ModelTable> listener = t -> tick.run();
          return link.subscribe(listener);
        });
  }

  /**
   * Waits for {@code done}, re-checked whenever {@code subscribe}'s source notifies (no polling
   * where a component has a listener).
   */
  private static void awaitTrue(
      String what, BooleanSupplier done, Function<Runnable, AutoCloseable> subscribe) {
    awaitTrue(what, done, Optional::empty, subscribe);
  }

  /**
   * Like {@link #awaitTrue(String, BooleanSupplier, Function)}, failing as soon as {@code failure}
   * names one (a process that exited).
   */
  private static void awaitTrue(
      String what,
      BooleanSupplier done,
      Supplier<Optional<String>> failure,
      Function<Runnable, AutoCloseable> subscribe) {
    CompletableFuture<Void> reached = new CompletableFuture<>();
    Runnable check =
        () -> {
          Optional<String> failed = failure.get();
          if (failed.isPresent()) {
            reached.completeExceptionally(
                new IllegalStateException(
                    "the data plane stopped while waiting for " + what + ": " + failed.get()));
            return;
          }
          try {
            if (done.getAsBoolean()) {
              reached.complete(null);
            }
          } catch (RuntimeException e) {
            // a component mid-update; the next notification checks again
          }
        };
    try (AutoCloseable subscription = subscribe.apply(check)) {
      check.run();
      reached.get(STARTUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "timed out after " + STARTUP_TIMEOUT + " waiting for " + what);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for " + what, e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IllegalStateException stopped) {
        throw stopped;
      }
      throw new IllegalStateException(e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Until the data plane (a real Envoy: it connects by itself, to the address in its bootstrap) has
   * ACKed the controller's resources over ADS; fails as soon as it has stopped.
   */
  private void awaitDataPlaneSynced() {
    BudgetController current = controller.controller;
    DataPlane target = dataPlane;
    awaitTrue(
        "the data plane to connect to the xDS server and sync",
        () -> current.xds().ackedVersions().stream().anyMatch(AdsCache.ClientAcks::synced),
        target::failure,
        // the xDS server has no ACK listener for outsiders
        tick -> pollEvery(Duration.ofMillis(50), tick));
  }

  /** For sources without a listener (a real Envoy's ACKs): calls {@code tick} every period. */
  private static AutoCloseable pollEvery(Duration period, Runnable tick) {
    ScheduledExecutorService poller =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "sandbox-poll");
              t.setDaemon(true);
              return t;
            });
    poller.scheduleWithFixedDelay(tick, 0, period.toMillis(), TimeUnit.MILLISECONDS);
    return poller::shutdownNow;
  }

  /** Stops everything, data plane first. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    closeQuietly("data plane feed", feed);
    closeQuietly("data plane", dataPlane);
    closeQuietly("stand-in", standIn);
    closeQuietly("ext-proc", extProc);
    closeQuietly("controller", controller);
    if (cluster != null) {
      closeQuietly("cluster", cluster);
    } else {
      // what SimulatedCluster would close, around the caller's API server
      closeQuietly("kubelet", kubelet);
      if (vertx != null) {
        closeQuietly(
            "the kubelet's Vert.x",
            () -> vertx.close().toCompletionStage().toCompletableFuture().join());
      }
      closeQuietly("API server", apiServer);
    }
  }

  private static void closeQuietly(String what, AutoCloseable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn("closing the {} failed", what, e);
    }
  }

  /** One controller and what it owns. */
  private record ControllerInstance(BudgetController controller) implements AutoCloseable {
    @Override
    public void close() throws InterruptedException {
      controller.close();
    }
  }

  /** One ext-proc server with its link, channel and link thread. */
  private record ExtProcInstance(
      ExtProcServer server,
      GrpcControllerLink link,
      ManagedChannel channel,
      ScheduledExecutorService linkExecutor)
      implements AutoCloseable {
    @Override
    public void close() {
      try {
        server.close();
      } catch (Exception e) {
        log.warn("closing ext-proc failed", e);
      }
      link.close();
      channel.shutdownNow();
      try {
        // the link's gRPC callbacks hop onto its executor: stop it only once the channel is done
        channel.awaitTermination(5, TimeUnit.SECONDS);
        linkExecutor.shutdown();
        linkExecutor.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The stand-in's ADS stream: what Envoy's {@code ads_config} is. */
  private record DataPlaneFeed(AdsClient ads, StandInXdsFeed feed) implements AutoCloseable {
    static DataPlaneFeed connect(String host, int xdsPort, EnvoyStandIn standIn) {
      AdsClient ads =
          AdsClient.connect(
              host, xdsPort, AdsClient.Options.standaloneEnvoy(ENVOY_NODE_ID, ROUTE_CONFIG_NAME));
      return new DataPlaneFeed(
          ads, StandInXdsFeed.attach(ads, ROUTE_CONFIG_NAME, standIn.routes(), standIn.clusters()));
    }

    @Override
    public void close() throws InterruptedException {
      feed.close();
      ads.close();
    }
  }
}
