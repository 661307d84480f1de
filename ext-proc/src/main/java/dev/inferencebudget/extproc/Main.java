package dev.inferencebudget.extproc;

import dev.inferencebudget.extproc.api.ExtProcConfig;
import dev.inferencebudget.extproc.grpc.ExtProcServer;
import dev.inferencebudget.extproc.local.InMemoryControllerLink;
import dev.inferencebudget.extproc.local.InMemoryModelStates;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the ext_proc server. Configuration comes from the environment ({@code IBC_EXTPROC_*}),
 * every unset key keeping {@link ExtProcConfig#defaults()}.
 */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) throws Exception {
    ExtProcConfig config = fromEnvironment(System.getenv()).validate();
    // DJL copies its native tokenizer library into this directory; keep it out of $HOME.
    if (System.getProperty("DJL_CACHE_DIR") == null && System.getenv("DJL_CACHE_DIR") == null) {
      System.setProperty(
          "DJL_CACHE_DIR", Path.of(System.getProperty("java.io.tmpdir"), "djl").toString());
    }
    // TODO(#4): replace the in-memory table and link with the controller's gRPC link
    // (WatchModelStates, Activate, ReportLoad over ExtProcServer.loadSource()).
    ExtProcServer server =
        ExtProcServer.builder(config)
            .modelStates(new InMemoryModelStates())
            .controllerLink(new InMemoryControllerLink())
            .build()
            .start();
    log.info("ext_proc listening on {}, metrics on {}", server.port(), server.metricsPort());
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    server.close();
                  } catch (Exception e) {
                    log.warn("shutdown failed", e);
                  }
                  stop.countDown();
                }));
    stop.await();
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
    if (env.containsKey("IBC_EXTPROC_TOKENIZER_DIR")) {
      config = config.withTokenizerDirectory(Path.of(env.get("IBC_EXTPROC_TOKENIZER_DIR")));
    }
    return config;
  }
}
