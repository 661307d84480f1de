package dev.inferencebudget.extproc.grpc;

import com.google.common.base.Ticker;
import dev.inferencebudget.extproc.admission.TenantRateLimiter;
import dev.inferencebudget.extproc.api.ControllerLink;
import dev.inferencebudget.extproc.api.ExtProcConfig;
import dev.inferencebudget.extproc.api.LoadSource;
import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.api.ModelStateSource;
import dev.inferencebudget.extproc.api.Scheduler;
import dev.inferencebudget.extproc.flow.AdmissionEngine;
import dev.inferencebudget.extproc.hold.ColdStartHolds;
import dev.inferencebudget.extproc.local.ExecutorScheduler;
import dev.inferencebudget.extproc.metrics.ExtProcMetrics;
import dev.inferencebudget.extproc.metrics.LoadTracker;
import dev.inferencebudget.extproc.queue.ConcurrencyGate;
import dev.inferencebudget.extproc.tokens.TokenCountCache;
import dev.inferencebudget.extproc.tokens.Tokenizers;
import io.grpc.BindableService;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The ext_proc server: wires the admission engine, serves {@code ExternalProcessor} and gRPC health
 * over Netty, and Prometheus metrics on their own port.
 *
 * <pre>{@code
 * ExtProcServer server = ExtProcServer.builder(config)
 *     .modelStates(states)          // required
 *     .controllerLink(link)         // required
 *     .build()
 *     .start();                     // or: bind server.service() into an in-process server
 * }</pre>
 */
public final class ExtProcServer implements AutoCloseable {

  /** Headroom over the body limit for headers and protobuf framing in one gRPC message. */
  static final int MESSAGE_OVERHEAD_BYTES = 256 * 1024;

  private final ExtProcConfig config;
  private final AdmissionEngine engine;
  private final ExternalProcessorService service;
  private final LoadTracker load;
  private final PrometheusRegistry registry;
  private final ServerCredentials serverCredentials;
  private final ScheduledExecutorService executor;
  private final Tokenizers tokenizers;
  private Server server;
  private HealthStatusManager health;
  private HTTPServer metricsServer;

  private ExtProcServer(Builder b) {
    this.config = b.config;
    this.registry = b.registry;
    this.serverCredentials = b.serverCredentials;
    this.executor =
        Executors.newScheduledThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "ext-proc-timers");
              t.setDaemon(true);
              return t;
            });
    Scheduler scheduler = b.scheduler != null ? b.scheduler : new ExecutorScheduler(executor);
    this.tokenizers = new Tokenizers(config.tokenizerDirectory(), executor);
    TenantRateLimiter limiter = new TenantRateLimiter(b.ticker);
    ConcurrencyGate gate = new ConcurrencyGate(scheduler, b.ticker);
    ColdStartHolds holds =
        new ColdStartHolds(
            b.modelStates,
            b.controllerLink,
            scheduler,
            b.ticker,
            m -> AdmissionEngine.servable(m, config.routingMode()));
    ModelStateSource states = b.modelStates;
    java.util.function.Supplier<Collection<String>> keys =
        () -> states.current().models().stream().map(ModelState::key).toList();
    ExtProcMetrics metrics = new ExtProcMetrics(registry);
    ExtProcMetrics.registerGauges(registry, keys, gate::queued, holds::held, gate::inFlight);
    this.load = new LoadTracker(b.clock, keys, gate::inFlight, gate::queued, holds::held);
    this.engine =
        new AdmissionEngine(
            config,
            states,
            tokenizers,
            new TokenCountCache(b.tokenCountCacheEntries),
            limiter,
            gate,
            holds,
            metrics,
            load,
            b.ticker);
    this.service = new ExternalProcessorService(engine);
    executor.scheduleWithFixedDelay(
        () -> limiter.evictIdle(Duration.ofMinutes(5)), 1, 1, TimeUnit.MINUTES);
    warmUp();
  }

  /**
   * Loads and runs the request path's classes once (Jackson, SHA-256 providers, protobuf builders)
   * so the first real request does not pay for class loading inside Envoy's message timeout.
   */
  private static void warmUp() {
    byte[] body =
        "{\"model\":\"warm-up\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1}"
            .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    dev.inferencebudget.extproc.openai.RequestParser.parse(
        dev.inferencebudget.extproc.openai.OpenAiEndpoint.CHAT_COMPLETIONS, body);
    dev.inferencebudget.extproc.admission.TenantKeys.hash("warm-up");
    EnvoyResponses.immediate(
        dev.inferencebudget.extproc.openai.AdmissionError.modelNotFound("warm-up"));
    EnvoyResponses.route(java.util.Map.of("x-warm-up", "1"), null, null);
    dev.inferencebudget.extproc.openai.UsageScanner scanner =
        dev.inferencebudget.extproc.openai.UsageScanner.forResponse("text/event-stream", null);
    scanner.accept(
        java.nio.ByteBuffer.wrap(
            "data: {\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\n\n"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  }

  public static Builder builder(ExtProcConfig config) {
    return new Builder(config);
  }

  /** Binds the gRPC server (and the metrics endpoint unless {@code metricsPort} is -1). */
  public ExtProcServer start() throws IOException {
    health = new HealthStatusManager();
    server =
        NettyServerBuilder.forAddress(
                new InetSocketAddress(config.bindAddress(), config.grpcPort()), serverCredentials)
            .addService(service)
            .addService(health.getHealthService())
            // A BUFFERED body arrives in one message: the default 4 MiB would refuse larger ones
            // with RESOURCE_EXHAUSTED, which Envoy turns into a 500 (spec case 18).
            .maxInboundMessageSize(config.maxRequestBodyBytes() + MESSAGE_OVERHEAD_BYTES)
            .permitKeepAliveTime(10, TimeUnit.SECONDS)
            .permitKeepAliveWithoutCalls(true)
            .build()
            .start();
    health.setStatus("", ServingStatus.SERVING);
    if (serverCredentials instanceof InsecureServerCredentials) {
      // over TLS the loopback call would need a client certificate; the probe covers it instead
      checkOwnHealth();
    }
    if (config.metricsPort() >= 0) {
      metricsServer =
          HTTPServer.builder()
              .hostname(config.bindAddress())
              .port(config.metricsPort())
              .registry(registry)
              .buildAndStart();
    }
    return this;
  }

  /**
   * Calls this server's own health service once over loopback: proves it serves, and loads the
   * Netty and HTTP/2 classes now rather than inside the first request's message timeout.
   */
  private void checkOwnHealth() {
    String host =
        config.bindAddress().equals("0.0.0.0") || config.bindAddress().equals("::")
            ? "127.0.0.1"
            : config.bindAddress();
    io.grpc.ManagedChannel channel =
        io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress(host, server.getPort())
            .usePlaintext()
            .build();
    try {
      io.grpc.health.v1.HealthGrpc.newBlockingStub(channel)
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .check(io.grpc.health.v1.HealthCheckRequest.getDefaultInstance());
    } catch (RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(ExtProcServer.class)
          .warn("self health check on {}:{} failed", host, server.getPort(), e);
    } finally {
      channel.shutdownNow();
    }
  }

  /** The service alone, for an in-process gRPC server (tests, the Envoy stand-in). */
  public BindableService service() {
    return service;
  }

  /** The largest inbound gRPC message this server must accept (set it on in-process servers). */
  public int maxInboundMessageSize() {
    return config.maxRequestBodyBytes() + MESSAGE_OVERHEAD_BYTES;
  }

  public int port() {
    return server.getPort();
  }

  public int metricsPort() {
    return metricsServer == null ? -1 : metricsServer.getPort();
  }

  /** Per-model load for the controller link's load reports. */
  public LoadSource loadSource() {
    return load;
  }

  public AdmissionEngine engine() {
    return engine;
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  /** Loads a Hugging Face tokenizer now (startup); false if missing. */
  public boolean preloadTokenizer(String name) {
    return tokenizers.load(name);
  }

  @Override
  public void close() throws Exception {
    if (health != null) {
      health.enterTerminalState();
    }
    if (server != null) {
      server.shutdown();
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    }
    if (metricsServer != null) {
      metricsServer.close();
    }
    engine.close();
    executor.shutdownNow();
    tokenizers.close();
  }

  /** Wiring options; time sources default to the system's. */
  public static final class Builder {
    private final ExtProcConfig config;
    private ModelStateSource modelStates;
    private ControllerLink controllerLink;
    private Ticker ticker = Ticker.systemTicker();
    private Clock clock = Clock.systemUTC();
    private Scheduler scheduler;
    private PrometheusRegistry registry = new PrometheusRegistry();
    private ServerCredentials serverCredentials = InsecureServerCredentials.create();
    private long tokenCountCacheEntries = TokenCountCache.DEFAULT_ENTRIES;

    private Builder(ExtProcConfig config) {
      this.config = Objects.requireNonNull(config, "config").validate();
    }

    public Builder modelStates(ModelStateSource source) {
      this.modelStates = Objects.requireNonNull(source, "source");
      return this;
    }

    public Builder controllerLink(ControllerLink link) {
      this.controllerLink = Objects.requireNonNull(link, "link");
      return this;
    }

    /** Monotonic time for buckets, holds and queues (a fake one in tests). */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /** Wall-clock time for load reports. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Runs hold and queue timeouts (a fake one in tests); default: an executor. */
    public Builder scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    public Builder registry(PrometheusRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** Entries of the exact-count cache for long texts (0: off, e.g. to measure without it). */
    public Builder tokenCountCacheEntries(long entries) {
      if (entries < 0) {
        throw new IllegalArgumentException("tokenCountCacheEntries must not be negative");
      }
      this.tokenCountCacheEntries = entries;
      return this;
    }

    /**
     * Transport credentials of the ext_proc port (TLS from {@code IBC_TLS_DIR}); plaintext by
     * default.
     */
    public Builder serverCredentials(ServerCredentials credentials) {
      this.serverCredentials = Objects.requireNonNull(credentials, "credentials");
      return this;
    }

    public ExtProcServer build() {
      Objects.requireNonNull(modelStates, "modelStates");
      Objects.requireNonNull(controllerLink, "controllerLink");
      return new ExtProcServer(this);
    }
  }
}
