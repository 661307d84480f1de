package dev.inferencebudget.harness.sandbox;

import java.io.File;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sandbox}: the whole system on this machine (see {@link Sandbox}), ready for curl or any
 * OpenAI client; prints live state until Ctrl-C, or runs the scripted tour with {@code --demo}.
 */
@Command(
    name = "sandbox",
    mixinStandardHelpOptions = true,
    description = {
      "Starts the Inference Budget Controller on this machine: an embedded Kubernetes API server with a"
          + " simulated cluster (vLLM simulators), the controller with its xDS server, ext-proc, and the data"
          + " plane (a real envoy if one is on PATH, else the Envoy stand-in), and applies the examples.",
      "Prints the OpenAI base URL and curl commands, then the live state whenever it changes; Ctrl-C stops."
    },
    sortOptions = false)
public final class SandboxCommand implements Callable<Integer> {
  private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

  @Option(
      names = "--demo",
      description =
          "Run the scripted tour (cold start, scale to zero, preemption, refusal, token rate) and exit.")
  boolean demo;

  @Option(
      names = "--port",
      defaultValue = "8080",
      description = "OpenAI-facing port of the data plane (${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--xds-port",
      defaultValue = "18000",
      description = "xDS (ADS) port (${DEFAULT-VALUE}).")
  int xdsPort;

  @Option(
      names = "--link-port",
      defaultValue = "9090",
      description = "Controller link API port, ext-proc connects here (${DEFAULT-VALUE}).")
  int linkPort;

  @Option(
      names = "--ext-proc-port",
      defaultValue = "9002",
      description = "ext-proc gRPC port (${DEFAULT-VALUE}).")
  int extProcPort;

  @Option(
      names = "--load-time",
      defaultValue = "3s",
      converter = DurationConverter.class,
      description = "Simulated model load time of each replica (${DEFAULT-VALUE}).")
  Duration loadTime;

  @Option(
      names = "--idle-timeout",
      converter = DurationConverter.class,
      description =
          "Override every model's scale-to-zero idle timeout (whole seconds, e.g. 30s). Default: the"
              + " manifests' values; 5s with --demo.")
  Duration idleTimeout;

  @Option(
      names = "--manifests",
      split = ",",
      paramLabel = "PATH",
      description = "YAML files or directories to apply (default: examples/).")
  List<Path> manifests;

  @Option(
      names = "--data-plane",
      defaultValue = "auto",
      description =
          "auto (envoy if on PATH, else the stand-in), stand-in, or envoy (${DEFAULT-VALUE}).")
  String dataPlane;

  @Option(names = "--verbose", description = "Log every component at INFO.")
  boolean verbose;

  private final PrintStream out = System.out;

  public static void main(String[] args) {
    // Before any logger exists: the components log at INFO, which would bury the state lines.
    boolean verbose = List.of(args).contains("--verbose");
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "info" : "warn");
    System.setProperty(
        "org.slf4j.simpleLogger.log.io.fabric8.kubernetes.client.dsl.internal.VersionUsageUtils",
        "error");
    // On Ctrl-C a Vert.x server's channel group may finish closing after its event loop stopped;
    // Netty then logs a stack trace for a listener it can no longer notify. Nothing is lost (the
    // process is ending), so that one logger stays quiet unless --verbose.
    System.setProperty(
        "org.slf4j.simpleLogger.log.io.netty.util.concurrent.DefaultPromise.rejectedExecution",
        verbose ? "error" : "off");
    System.exit(new CommandLine(new SandboxCommand()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    long startNanos = System.nanoTime();
    SandboxConfig config =
        SandboxConfig.defaults()
            .withPorts(port, xdsPort, linkPort, extProcPort)
            .withModelLoadTime(loadTime);
    if (manifests != null && !manifests.isEmpty()) {
      config = config.withManifests(manifests);
    }
    Duration idle = idleTimeout != null ? idleTimeout : demo ? Duration.ofSeconds(5) : null;
    if (idle != null) {
      config = config.withIdleTimeout(idle);
    }
    Optional<Path> envoy = chooseEnvoy();
    if (envoy.isPresent()) {
      config = config.withEnvoyBinary(envoy.get());
      out.println(
          "Using the envoy binary "
              + envoy.get()
              + " (bootstrap "
              + config.envoyBootstrap()
              + ").");
    }

    Sandbox sandbox =
        Sandbox.start(
            config,
            step ->
                out.printf(
                    Locale.ROOT,
                    "sandbox: [%5.1f s] %s ...%n",
                    (System.nanoTime() - startNanos) / 1e9,
                    step));
    try {
      if (demo) {
        out.println("sandbox: applying the demo's budget and models (sandbox/demo.yaml) ...");
        sandbox.apply(DemoTour.demoObjects(sandbox));
      }
      Duration ready = Duration.ofNanos(System.nanoTime() - startNanos);
      Duration sinceJvmStart =
          Duration.ofMillis(
              System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime());
      out.printf(
          Locale.ROOT,
          "%nReady to curl in %s (%s since the JVM started).%n",
          DemoTour.seconds(ready),
          DemoTour.seconds(sinceJvmStart));
      printUsage(sandbox);
      if (demo) {
        boolean ok = new DemoTour(sandbox, out).run();
        return ok ? 0 : 1;
      }
      watch(sandbox);
      return 0;
    } finally {
      sandbox.close();
    }
  }

  private Optional<Path> chooseEnvoy() {
    switch (dataPlane) {
      case "stand-in":
        return Optional.empty();
      case "envoy":
        return Optional.of(
            findOnPath("envoy")
                .orElseThrow(
                    () ->
                        new CommandLine.ParameterException(
                            new CommandLine(this), "--data-plane envoy: no envoy on PATH")));
      case "auto":
        return findOnPath("envoy");
      default:
        throw new CommandLine.ParameterException(
            new CommandLine(this), "--data-plane must be auto, stand-in or envoy");
    }
  }

  private static Optional<Path> findOnPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      Path candidate = Path.of(dir, name);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  private void printUsage(Sandbox sandbox) {
    String base = sandbox.baseUrl();
    String cold =
        "{\"model\":\""
            + Sandbox.EXAMPLE_COLD_MODEL
            + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello!\"}],\"max_tokens\":16}";
    String stream =
        "{\"model\":\""
            + Sandbox.EXAMPLE_COLD_MODEL
            + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello!\"}],\"max_tokens\":16,"
            + "\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
    out.println();
    out.println("OpenAI base URL: " + base + "   (any API key; it names the tenant)");
    out.println();
    out.println("Try:");
    out.println("  curl -s " + base + "/models");
    out.println(
        "  curl -s "
            + base
            + "/chat/completions -H 'content-type: application/json' -H 'authorization: Bearer sk-a' \\\n"
            + "       -d '"
            + cold
            + "'     # cold: held until a replica is ready");
    out.println(
        "  curl -sN "
            + base
            + "/chat/completions -H 'content-type: application/json' -H 'authorization: Bearer sk-a' \\\n"
            + "       -d '"
            + stream
            + "'");
    // The embedded API server is a store without discovery, so kubectl cannot use it; curl can.
    out.println(
        "  curl -s "
            + sandbox.cluster().apiServer().url()
            + "apis/inferencebudget.dev/v1alpha1/budgetedmodels     # the API server's objects");
  }

  /** Prints the state whenever it changes, until Ctrl-C. */
  private void watch(Sandbox sandbox) throws InterruptedException {
    out.println();
    out.println("Live state (printed when it changes; Ctrl-C to stop):");
    CountDownLatch stopped = new CountDownLatch(1);
    ScheduledExecutorService poller =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "sandbox-state");
              t.setDaemon(true);
              return t;
            });
    List<String>[] last = new List[] {List.of()};
    poller.scheduleWithFixedDelay(
        () -> {
          try {
            SandboxState state = sandbox.state();
            List<String> lines = StateLines.render(state);
            if (!lines.equals(last[0])) {
              last[0] = lines;
              out.println(
                  LocalTime.now().format(CLOCK) + "  held requests: " + state.heldRequests());
              lines.forEach(out::println);
            }
          } catch (RuntimeException e) {
            // shutting down, or the API server mid-restart: the next poll tries again
          }
        },
        0,
        250,
        TimeUnit.MILLISECONDS);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  poller.shutdownNow();
                  out.println();
                  out.println("sandbox: shutting down ...");
                  sandbox.close();
                  out.println("sandbox: stopped.");
                  stopped.countDown();
                }));
    stopped.await();
  }

  /** {@code 500ms}, {@code 3s}, {@code 2m}, {@code 1h}, or ISO-8601 ({@code PT3S}). */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    private static final Pattern SHORT = Pattern.compile("(\\d+)(ms|s|m|h)");

    @Override
    public Duration convert(String value) {
      Matcher m = SHORT.matcher(value.trim());
      if (m.matches()) {
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          default -> Duration.ofHours(n);
        };
      }
      return Duration.parse(value.trim());
    }
  }
}
