package dev.inferencebudget.harness.sandbox;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

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
    Path envoyBootstrap) {

  public SandboxConfig {
    Objects.requireNonNull(host, "host");
    manifests = List.copyOf(Objects.requireNonNull(manifests, "manifests"));
    Objects.requireNonNull(modelLoadTime, "modelLoadTime");
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    Objects.requireNonNull(terminationDelay, "terminationDelay");
    Objects.requireNonNull(startupGrace, "startupGrace");
    Objects.requireNonNull(envoyBinary, "envoyBinary");
    Objects.requireNonNull(envoyBootstrap, "envoyBootstrap");
  }

  /**
   * The command's settings: data plane on 8080, xDS on 18000, link API on 9090, ext-proc on 9002
   * (the ports of {@code envoy/envoy.yaml} and the processes' defaults), the examples, a 3 s model
   * load time, the examples' idle timeouts, 2 s termination delay, 1 s startup grace, leader
   * election on, the stand-in.
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
        repositoryPath("envoy/envoy.yaml"));
  }

  /**
   * For tests: every port 0, 300 ms model load time, 200 ms termination delay, no startup grace, no
   * leader election; the examples.
   */
  public static SandboxConfig forTests() {
    return defaults()
        .withPorts(0, 0, 0, 0)
        .withModelLoadTime(Duration.ofMillis(300))
        .withTerminationDelay(Duration.ofMillis(200))
        .withStartupGrace(Duration.ZERO)
        .withLeaderElection(false);
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
    if (envoyBinary.isPresent()) {
      if (dataPlanePort == 0 || xdsPort == 0 || extProcPort == 0) {
        errors.add(
            "envoyBinary is set, so dataPlanePort, xdsPort and extProcPort must be fixed (not 0):"
                + " they are written into Envoy's bootstrap");
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
    return new SandboxConfig(
        host,
        dataPlane,
        xds,
        linkApi,
        extProc,
        manifests,
        modelLoadTime,
        idleTimeout,
        terminationDelay,
        startupGrace,
        leaderElection,
        envoyBinary,
        envoyBootstrap);
  }

  public SandboxConfig withManifests(List<Path> v) {
    return new SandboxConfig(
        host,
        dataPlanePort,
        xdsPort,
        linkApiPort,
        extProcPort,
        v,
        modelLoadTime,
        idleTimeout,
        terminationDelay,
        startupGrace,
        leaderElection,
        envoyBinary,
        envoyBootstrap);
  }

  public SandboxConfig withModelLoadTime(Duration v) {
    return new SandboxConfig(
        host,
        dataPlanePort,
        xdsPort,
        linkApiPort,
        extProcPort,
        manifests,
        v,
        idleTimeout,
        terminationDelay,
        startupGrace,
        leaderElection,
        envoyBinary,
        envoyBootstrap);
  }

  /** Every BudgetedModel scales to zero after {@code v} idle (whole seconds). */
  public SandboxConfig withIdleTimeout(Duration v) {
    return new SandboxConfig(
        host,
        dataPlanePort,
        xdsPort,
        linkApiPort,
        extProcPort,
        manifests,
        modelLoadTime,
        Optional.of(v),
        terminationDelay,
        startupGrace,
        leaderElection,
        envoyBinary,
        envoyBootstrap);
  }

  public SandboxConfig withTerminationDelay(Duration v) {
    return new SandboxConfig(
        host,
        dataPlanePort,
        xdsPort,
        linkApiPort,
        extProcPort,
        manifests,
        modelLoadTime,
        idleTimeout,
        v,
        startupGrace,
        leaderElection,
        envoyBinary,
        envoyBootstrap);
  }

  public SandboxConfig withStartupGrace(Duration v) {
    return new SandboxConfig(
        host,
        dataPlanePort,
        xdsPort,
        linkApiPort,
        extProcPort,
        manifests,
        modelLoadTime,
        idleTimeout,
        terminationDelay,
        v,
        leaderElection,
        envoyBinary,
        envoyBootstrap);
  }

  public SandboxConfig withLeaderElection(boolean v) {
    return new SandboxConfig(
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
        v,
        envoyBinary,
        envoyBootstrap);
  }

  /** Runs a real Envoy ({@code binary}) instead of the stand-in. */
  public SandboxConfig withEnvoyBinary(Path binary) {
    return new SandboxConfig(
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
        Optional.of(binary),
        envoyBootstrap);
  }
}
