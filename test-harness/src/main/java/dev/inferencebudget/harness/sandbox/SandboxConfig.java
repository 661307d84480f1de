package dev.inferencebudget.harness.sandbox;

import dev.inferencebudget.controller.config.ControllerConfig;
import dev.inferencebudget.extproc.link.GrpcControllerLink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * How a {@link Sandbox} is started. {@link #defaults()} is what the command uses (fixed ports, the
 * OpenAI base URL {@code http://127.0.0.1:8080/v1}); {@link #forTests()} binds every port to 0 and
 * shortens the simulated timings. {@link #validate()} names the offending key.
 *
 * @param host the loopback address every component binds to
 * @param dataPlanePort the OpenAI-facing HTTP port (the stand-in's or Envoy's listener); 0: free
 * @param xdsPort the controller's ADS port; 0: free
 * @param linkApiPort the controller's link API (ext-proc connects here); 0: free
 * @param extProcPort ext-proc's gRPC port (the data plane's ext_proc cluster); 0: free
 * @param manifests YAML files or directories (read recursively, {@code *.yaml}/{@code *.yml}, in
 *     name order) applied at start; directories named {@code invalid} are skipped
 * @param modelLoadTime how long a simulated vLLM replica takes to load its model (the cold start)
 * @param idleTimeout when present, replaces every BudgetedModel's {@code
 *     spec.scaleToZero.idleTimeout} (and makes its keep-alive {@code Fixed}) so scale-to-zero can
 *     be watched in seconds
 * @param terminationDelay how long a scaled-down replica keeps terminating (and its memory)
 * @param startupGrace the controller's {@code startupGrace}: no writes for this long after it
 *     becomes leader (also after {@link Sandbox#restartController()})
 * @param leaderElection whether the controller campaigns for a Lease on the embedded API server
 * @param envoyBinary when present, a real Envoy (this executable) is started with {@code
 *     envoyBootstrap} instead of the stand-in; needs a fixed {@code dataPlanePort}
 * @param envoyBootstrap the standalone bootstrap ({@code envoy/envoy.yaml}); its hosts and ports
 *     are rewritten to this sandbox's
 * @param debounce the controller's cycle debounce: activations arriving within it are decided in
 *     one cycle (a longer one lets priority, not arrival order, decide a race for a budget)
 * @param tick the controller's periodic cycle (idle timers, scale-down), longer than {@code
 *     debounce}
 * @param loadReportInterval how often ext-proc reports its load (arrivals, in flight, held) to the
 *     controller, whose idle and preemption decisions read it
 */
public record SandboxConfig(
    String host,
    int dataPlanePort,
    int xdsPort,
    int linkApiPort,
    int extProcPort,
    List<Path> manifests,
    Duration modelLoadTime,
    Optional<Duration> idleTimeout,
    Duration terminationDelay,
    Duration startupGrace,
    boolean leaderElection,
    Optional<Path> envoyBinary,
    Path envoyBootstrap,
    Duration debounce,
    Duration tick,
    Duration loadReportInterval) {

  public SandboxConfig {
    Objects.requireNonNull(host, "host");
    manifests = List.copyOf(Objects.requireNonNull(manifests, "manifests"));
    Objects.requireNonNull(modelLoadTime, "modelLoadTime");
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    Objects.requireNonNull(terminationDelay, "terminationDelay");
    Objects.requireNonNull(startupGrace, "startupGrace");
    Objects.requireNonNull(envoyBinary, "envoyBinary");
    Objects.requireNonNull(envoyBootstrap, "envoyBootstrap");
    Objects.requireNonNull(debounce, "debounce");
    Objects.requireNonNull(tick, "tick");
    Objects.requireNonNull(loadReportInterval, "loadReportInterval");
  }

  /**
   * The components before {@code debounce}, {@code tick} and {@code loadReportInterval} existed;
   * those take the controller's and ext-proc's production defaults.
   */
  public SandboxConfig(
      String host,
      int dataPlanePort,
      int xdsPort,
      int linkApiPort,
      int extProcPort,
      List<Path> manifests,
      Duration modelLoadTime,
      Optional<Duration> idleTimeout,
      Duration terminationDelay,
      Duration startupGrace,
      boolean leaderElection,
      Optional<Path> envoyBinary,
      Path envoyBootstrap) {
    this(
        host,
        dataPlanePort,
        xdsPort,
        linkApiPort,
        extProcPort,
        manifests,
        modelLoadTime,
        idleTimeout,
        terminationDelay,
        startupGrace,
        leaderElection,
        envoyBinary,
        envoyBootstrap,
        ControllerConfig.defaults().debounce(),
        ControllerConfig.defaults().tick(),
        GrpcControllerLink.Settings.defaults("ext-proc").reportInterval());
  }

  /**
   * The command's settings: data plane on 8080, xDS on 18000, link API on 9090, ext-proc on 9002
   * (the ports of {@code envoy/envoy.yaml} and the processes' defaults), the examples, a 3 s model
   * load time, the examples' idle timeouts, 2 s termination delay, 1 s startup grace, leader
   * election on, the stand-in; the controller's debounce and tick and ext-proc's load report
   * interval as in production (100 ms, 5 s, 1 s).
   */
  public static SandboxConfig defaults() {
    return new SandboxConfig(
        "127.0.0.1",
        8080,
        18000,
        9090,
        9002,
        List.of(repositoryPath("examples")),
        Duration.ofSeconds(3),
        Optional.empty(),
        Duration.ofSeconds(2),
        Duration.ofSeconds(1),
        true,
        Optional.empty(),
        repositoryPath("envoy/envoy.yaml"),
        ControllerConfig.defaults().debounce(),
        ControllerConfig.defaults().tick(),
        GrpcControllerLink.Settings.defaults("ext-proc").reportInterval());
  }

  /**
   * For tests: every port 0, 300 ms model load time, 200 ms termination delay, no startup grace, no
   * leader election, a 20 ms debounce, a 200 ms tick and load reports every 200 ms (so that idle
   * timers and preemption are seen in a fraction of a second, not in seconds); the examples.
   */
  public static SandboxConfig forTests() {
    return defaults()
        .withPorts(0, 0, 0, 0)
        .withModelLoadTime(Duration.ofMillis(300))
        .withTerminationDelay(Duration.ofMillis(200))
        .withStartupGrace(Duration.ZERO)
        .withLeaderElection(false)
        .withControllerTiming(Duration.ofMillis(20), Duration.ofMillis(200))
        .withLoadReportInterval(Duration.ofMillis(200));
  }

  /**
   * {@code relative} under the repository root: the working directory or one of its parents that
   * has it (tests run in {@code test-harness/}, the command in the root).
   */
  public static Path repositoryPath(String relative) {
    Path dir = Path.of("").toAbsolutePath();
    for (Path d = dir; d != null; d = d.getParent()) {
      Path candidate = d.resolve(relative);
      if (Files.exists(candidate)) {
        return candidate;
      }
    }
    return dir.resolve(relative);
  }

  /**
   * Checks every setting and names the key of each violation.
   *
   * @return this, for chaining
   * @throws IllegalArgumentException listing all violations
   */
  public SandboxConfig validate() {
    List<String> errors = new ArrayList<>();
    port(errors, "dataPlanePort", dataPlanePort);
    port(errors, "xdsPort", xdsPort);
    port(errors, "linkApiPort", linkApiPort);
    port(errors, "extProcPort", extProcPort);
    for (Path manifest : manifests) {
      if (!Files.exists(manifest)) {
        errors.add("manifests: " + manifest + " does not exist");
      }
    }
    if (modelLoadTime.isNegative()) {
      errors.add("modelLoadTime = " + modelLoadTime + ", must be >= 0");
    }
    if (idleTimeout.isPresent()
        && (idleTimeout.get().isNegative() || idleTimeout.get().toMillis() % 1000 != 0)) {
      errors.add("idleTimeout = " + idleTimeout.get() + ", must be whole seconds >= 0");
    }
    if (terminationDelay.isNegative()) {
      errors.add("terminationDelay = " + terminationDelay + ", must be >= 0");
    }
    if (startupGrace.isNegative()) {
      errors.add("startupGrace = " + startupGrace + ", must be >= 0");
    }
    if (debounce.isNegative() || debounce.isZero()) {
      errors.add("debounce = " + debounce + ", must be > 0");
    }
    if (debounce.compareTo(tick) >= 0) {
      errors.add("tick = " + tick + ", must be longer than debounce = " + debounce);
    }
    if (loadReportInterval.isNegative() || loadReportInterval.isZero()) {
      errors.add("loadReportInterval = " + loadReportInterval + ", must be > 0");
    }
    if (envoyBinary.isPresent()) {
      if (dataPlanePort <= 0) {
        // xDS and ext-proc ports may be 0: Envoy starts after both are bound, with the bound ports
        errors.add(
            "envoyBinary is set, so dataPlanePort must be fixed (not "
                + dataPlanePort
                + "): Envoy binds the listener its bootstrap names");
      }
      if (!Files.isRegularFile(envoyBootstrap)) {
        errors.add("envoyBootstrap: " + envoyBootstrap + " does not exist");
      }
    }
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException("invalid sandbox config: " + errors);
    }
    return this;
  }

  private static void port(List<String> errors, String key, int value) {
    if (value < 0 || value > 65535) {
      errors.add(key + " = " + value + ", must be within 0..65535");
    }
  }

  public SandboxConfig withPorts(int dataPlane, int xds, int linkApi, int extProc) {
    return copy(
        b -> {
          b.dataPlanePort = dataPlane;
          b.xdsPort = xds;
          b.linkApiPort = linkApi;
          b.extProcPort = extProc;
        });
  }

  public SandboxConfig withManifests(List<Path> v) {
    return copy(b -> b.manifests = v);
  }

  public SandboxConfig withModelLoadTime(Duration v) {
    return copy(b -> b.modelLoadTime = v);
  }

  /** Every BudgetedModel scales to zero after {@code v} idle (whole seconds). */
  public SandboxConfig withIdleTimeout(Duration v) {
    return copy(b -> b.idleTimeout = Optional.of(v));
  }

  public SandboxConfig withTerminationDelay(Duration v) {
    return copy(b -> b.terminationDelay = v);
  }

  public SandboxConfig withStartupGrace(Duration v) {
    return copy(b -> b.startupGrace = v);
  }

  public SandboxConfig withLeaderElection(boolean v) {
    return copy(b -> b.leaderElection = v);
  }

  /** Runs a real Envoy ({@code binary}) instead of the stand-in. */
  public SandboxConfig withEnvoyBinary(Path binary) {
    return copy(b -> b.envoyBinary = Optional.of(binary));
  }

  /** The standalone bootstrap a real Envoy is started with (hosts and ports rewritten). */
  public SandboxConfig withEnvoyBootstrap(Path v) {
    return copy(b -> b.envoyBootstrap = v);
  }

  /** The controller's cycle debounce and periodic tick. */
  public SandboxConfig withControllerTiming(Duration newDebounce, Duration newTick) {
    return copy(
        b -> {
          b.debounce = newDebounce;
          b.tick = newTick;
        });
  }

  public SandboxConfig withLoadReportInterval(Duration v) {
    return copy(b -> b.loadReportInterval = v);
  }

  /**
   * A copy with {@code change} applied: one place that lists the components, so each {@code with}
   * method names only what it changes.
   */
  private SandboxConfig copy(Consumer<Copy> change) {
    Copy b = new Copy(this);
    change.accept(b);
    return new SandboxConfig(
        b.host,
        b.dataPlanePort,
        b.xdsPort,
        b.linkApiPort,
        b.extProcPort,
        b.manifests,
        b.modelLoadTime,
        b.idleTimeout,
        b.terminationDelay,
        b.startupGrace,
        b.leaderElection,
        b.envoyBinary,
        b.envoyBootstrap,
        b.debounce,
        b.tick,
        b.loadReportInterval);
  }

  /** The mutable scratch copy behind {@link #copy}. */
  private static final class Copy {
    String host;
    int dataPlanePort;
    int xdsPort;
    int linkApiPort;
    int extProcPort;
    List<Path> manifests;
    Duration modelLoadTime;
    Optional<Duration> idleTimeout;
    Duration terminationDelay;
    Duration startupGrace;
    boolean leaderElection;
    Optional<Path> envoyBinary;
    Path envoyBootstrap;
    Duration debounce;
    Duration tick;
    Duration loadReportInterval;

    Copy(SandboxConfig c) {
      host = c.host;
      dataPlanePort = c.dataPlanePort;
      xdsPort = c.xdsPort;
      linkApiPort = c.linkApiPort;
      extProcPort = c.extProcPort;
      manifests = c.manifests;
      modelLoadTime = c.modelLoadTime;
      idleTimeout = c.idleTimeout;
      terminationDelay = c.terminationDelay;
      startupGrace = c.startupGrace;
      leaderElection = c.leaderElection;
      envoyBinary = c.envoyBinary;
      envoyBootstrap = c.envoyBootstrap;
      debounce = c.debounce;
      tick = c.tick;
      loadReportInterval = c.loadReportInterval;
    }
  }
}
