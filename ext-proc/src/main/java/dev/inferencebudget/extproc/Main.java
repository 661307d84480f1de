package dev.inferencebudget.extproc;

import dev.inferencebudget.extproc.api.ExtProcConfig;
import dev.inferencebudget.extproc.api.LoadSource;
import dev.inferencebudget.extproc.grpc.ExtProcServer;
import dev.inferencebudget.extproc.link.GrpcControllerLink;
import dev.inferencebudget.extproc.local.InMemoryControllerLink;
import dev.inferencebudget.extproc.local.InMemoryModelStates;
import dev.inferencebudget.proto.tls.GrpcTls;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the ext_proc server. Configuration comes from the environment ({@code IBC_EXTPROC_*}),
 * every unset key keeping {@link ExtProcConfig#defaults()}; {@code IBC_EXTPROC_CONTROLLER} ({@code
 * host:port}) connects the controller link, without it the model table is empty.
 */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) throws Exception {
    ExtProcConfig config = fromEnvironment(System.getenv()).validate();
    GrpcTls tls = GrpcTls.fromEnvironment(System.getenv());
    // DJL copies its native tokenizer library into this directory; keep it out of $HOME.
    if (System.getProperty("DJL_CACHE_DIR") == null && System.getenv("DJL_CACHE_DIR") == null) {
      System.setProperty(
          "DJL_CACHE_DIR", Path.of(System.getProperty("java.io.tmpdir"), "djl").toString());
    }
    String controller = System.getenv("IBC_EXTPROC_CONTROLLER");
    ExtProcServer server;
    Runnable closeLink = () -> {};
    if (controller == null || controller.isBlank()) {
      log.warn("IBC_EXTPROC_CONTROLLER not set: serving an empty, static model table");
      server =
          ExtProcServer.builder(config)
              .modelStates(new InMemoryModelStates())
              .controllerLink(new InMemoryControllerLink())
              .serverCredentials(tls.serverCredentials())
              .build()
              .start();
    } else {
      // The link reports the server's load, and the server reads the link's table: tie the knot
      // through a reference set once the server exists.
      AtomicReference<LoadSource> load = new AtomicReference<>(List::of);
      ManagedChannel channel = controllerChannel(controller, tls);
      ScheduledExecutorService linkExecutor = Executors.newSingleThreadScheduledExecutor();
      GrpcControllerLink link =
          new GrpcControllerLink(
              channel,
              () -> load.get().drainWindow(),
              GrpcControllerLink.Settings.defaults(config.replicaName()),
              linkExecutor,
              Clock.systemUTC());
      server =
          ExtProcServer.builder(config)
              .modelStates(link)
              .controllerLink(link)
              .serverCredentials(tls.serverCredentials())
              .build();
      load.set(server.loadSource());
      link.start();
      server.start();
      closeLink =
          () -> {
            link.close();
            channel.shutdownNow();
            linkExecutor.shutdownNow();
          };
    }
    ExtProcServer started = server;
    Runnable stopLink = closeLink;
    log.info("ext_proc listening on {}, metrics on {}", started.port(), started.metricsPort());
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    started.close();
                    stopLink.run();
                    tls.close();
                  } catch (Exception e) {
                    log.warn("shutdown failed", e);
                  }
                  stop.countDown();
                }));
    stop.await();
  }

  /**
   * The channel to the controller's link API at {@code target} ({@code host:port}): TLS (presenting
   * this replica's certificate, for mutual TLS) when {@code IBC_TLS_DIR} is set, else plaintext.
   */
  public static ManagedChannel controllerChannel(String target, GrpcTls tls) throws IOException {
    return NettyChannelBuilder.forTarget(target, tls.channelCredentials())
        .keepAliveTime(30, TimeUnit.SECONDS)
        .build();
  }

  /** The configuration an environment describes. */
  static ExtProcConfig fromEnvironment(Map<String, String> env) {
    ExtProcConfig config = ExtProcConfig.defaults();
    if (env.containsKey("IBC_EXTPROC_GRPC_PORT")) {
      config = config.withGrpcPort(Integer.parseInt(env.get("IBC_EXTPROC_GRPC_PORT")));
    }
    if (env.containsKey("IBC_EXTPROC_METRICS_PORT")) {
      config = config.withMetricsPort(Integer.parseInt(env.get("IBC_EXTPROC_METRICS_PORT")));
    }
    if (env.containsKey("IBC_EXTPROC_ROUTING_MODE")) {
      config =
          config.withRoutingMode(
              ExtProcConfig.RoutingMode.valueOf(env.get("IBC_EXTPROC_ROUTING_MODE")));
    }
    if (env.containsKey("IBC_EXTPROC_MAX_BODY_BYTES")) {
      config =
          config.withMaxRequestBodyBytes(Integer.parseInt(env.get("IBC_EXTPROC_MAX_BODY_BYTES")));
    }
    if (env.containsKey("IBC_EXTPROC_MAX_MESSAGE_TIMEOUT_SECONDS")) {
      Duration max =
          Duration.ofSeconds(Long.parseLong(env.get("IBC_EXTPROC_MAX_MESSAGE_TIMEOUT_SECONDS")));
      config = config.withTimeouts(max, max);
    }
    if (env.containsKey("IBC_EXTPROC_REPLICA")) {
      config = config.withReplicaName(env.get("IBC_EXTPROC_REPLICA"));
    }
    if (env.containsKey("IBC_EXTPROC_TOKENIZER_DIR")) {
      config = config.withTokenizerDirectory(Path.of(env.get("IBC_EXTPROC_TOKENIZER_DIR")));
    }
    return config;
  }
}
