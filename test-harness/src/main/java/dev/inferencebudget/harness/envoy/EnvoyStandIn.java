package dev.inferencebudget.harness.envoy;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.PoolOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A running Envoy stand-in: an HTTP/1.1 listener, the ext_proc filter (optional), the router, and
 * the route table and clusters that tests (or an xDS client) update at runtime.
 *
 * <pre>{@code
 * EnvoyStandIn envoy = EnvoyStandIn.start(EnvoyStandInConfig.builder()
 *     .extProc(ExtProcFilterConfig.builder().bodyModes(BUFFERED, STREAMED).build(), extProcAddress)
 *     .build());
 * envoy.routes().update(List.of(Route.onHeader("m", "x-ibc-model", "llama", "llama")));
 * envoy.clusters().update(Cluster.ofEndpoints("llama", List.of(new Cluster.Endpoint("127.0.0.1", port))));
 * // http://127.0.0.1:envoy.port()/v1/chat/completions
 * envoy.close();
 * }</pre>
 */
public final class EnvoyStandIn implements AutoCloseable {
  /** How many finished requests {@link #accessLog()} keeps (the most recent ones). */
  public static final int ACCESS_LOG_CAPACITY = 10_000;

  private final EnvoyStandInConfig config;
  private final Vertx vertx;
  private final boolean ownsVertx;
  private final HttpServer server;
  private final HttpClient httpClient;
  private final ManagedChannel channel;
  private final ExtProcClient extProcClient;
  private final RouteTable routes = new RouteTable();
  private final ClusterManager clusters = new ClusterManager();
  private final ExtProcStats stats = new ExtProcStats();
  private final ConcurrentLinkedDeque<AccessLogEntry> accessLog = new ConcurrentLinkedDeque<>();
  private final AtomicInteger accessLogSize = new AtomicInteger();

  private EnvoyStandIn(EnvoyStandInConfig config, Vertx vertx, boolean ownsVertx) {
    this.config = config;
    this.vertx = vertx;
    this.ownsVertx = ownsVertx;
    this.httpClient =
        vertx.createHttpClient(
            new HttpClientOptions().setKeepAlive(true).setPipelining(false),
            new PoolOptions().setHttp1MaxSize(1024));
    if (config.extProc().isPresent()) {
      var address = config.extProcAddress().orElseThrow();
      this.channel =
          NettyChannelBuilder.forAddress(address.getHostString(), address.getPort())
              .usePlaintext()
              .maxInboundMessageSize(config.extProcMaxInboundMessageBytes())
              .build();
      this.extProcClient =
          new ExtProcClient(channel, config.extProc().get().extProcMaxRequests(), stats);
    } else {
      this.channel = null;
      this.extProcClient = null;
    }
    this.server =
        vertx.createHttpServer(
            new HttpServerOptions().setHost(config.listenHost()).setPort(config.listenPort()));
    server.requestHandler(req -> new ActiveStream(this, req).start());
  }

  /** Starts a stand-in with its own Vert.x instance; blocks until the listener is bound. */
  public static EnvoyStandIn start(EnvoyStandInConfig config) {
    return start(config, Vertx.vertx(), true);
  }

  /** Starts a stand-in on a shared Vert.x instance (not closed by {@link #close()}). */
  public static EnvoyStandIn start(EnvoyStandInConfig config, Vertx vertx) {
    return start(config, vertx, false);
  }

  private static EnvoyStandIn start(EnvoyStandInConfig config, Vertx vertx, boolean ownsVertx) {
    Objects.requireNonNull(config, "config");
    EnvoyStandIn standIn = new EnvoyStandIn(config, vertx, ownsVertx);
    try {
      standIn.server.listen().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      standIn.close();
      throw new IllegalStateException(
          "cannot bind " + config.listenHost() + ":" + config.listenPort(), e);
    }
    return standIn;
  }

  /** The downstream listener's port. */
  public int port() {
    return server.actualPort();
  }

  /** {@code http://host:port}, for clients. */
  public String baseUrl() {
    return "http://" + config.listenHost() + ":" + port();
  }

  /** The route table (RDS): replace it with {@link RouteTable#update}. */
  public RouteTable routes() {
    return routes;
  }

  /** The clusters and endpoints (CDS/EDS): {@link ClusterManager#update}. */
  public ClusterManager clusters() {
    return clusters;
  }

  public ExtProcStats stats() {
    return stats;
  }

  /** Finished requests, oldest first (at most {@link #ACCESS_LOG_CAPACITY}). */
  public List<AccessLogEntry> accessLog() {
    return new ArrayList<>(accessLog);
  }

  /** ext_proc streams currently open (the ext_proc cluster's active requests). */
  public int activeExtProcStreams() {
    return extProcClient == null ? 0 : extProcClient.activeStreams();
  }

  public EnvoyStandInConfig config() {
    return config;
  }

  Vertx vertx() {
    return vertx;
  }

  HttpClient httpClient() {
    return httpClient;
  }

  ExtProcClient extProcClient() {
    return extProcClient;
  }

  void log(AccessLogEntry entry) {
    accessLog.addLast(entry);
    if (accessLogSize.incrementAndGet() > ACCESS_LOG_CAPACITY) {
      accessLog.pollFirst();
      accessLogSize.decrementAndGet();
    }
  }

  @Override
  public void close() {
    try {
      server.close().await(10, TimeUnit.SECONDS);
      httpClient.close().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // closing anyway
    }
    if (channel != null) {
      channel.shutdownNow();
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (ownsVertx) {
      try {
        vertx.close().await(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        // closing anyway
      }
    }
  }
}
