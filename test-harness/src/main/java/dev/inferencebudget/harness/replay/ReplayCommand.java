package dev.inferencebudget.harness.replay;

import dev.inferencebudget.controller.api.GoDurations;
import dev.inferencebudget.harness.fleet.Fleet;
import dev.inferencebudget.harness.fleet.KeepAlivePolicy;
import dev.inferencebudget.harness.fleet.SimulationSettings;
import dev.inferencebudget.harness.fleet.TraceReader;
import dev.inferencebudget.harness.fleet.TraceRequest;
import dev.inferencebudget.harness.fleet.ZipfSplit;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code replay}: replays a window of a trace against the running system and reports. */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description = {
      "Replays a request trace against the running system at a speed-up: split across models by the"
          + " fleet simulator's seeded Zipf draw and stretched the same way, every timing of the scenario"
          + " (load times, keep-alive including the adaptive histogram's buckets, hold timeout,"
          + " termination delay, scaling windows, token rates)"
          + " divided by --speed. Reports latency with and without cold starts, refusals by reason,"
          + " cold starts and GPU-memory-hours against always-on, in trace time, next to the fleet"
          + " simulator's figures for the same window.",
      "Default target: an in-process sandbox; or --base-url (and --kube-url to create the models and"
          + " watch the pods) for one that runs already."
    },
    sortOptions = false)
public final class ReplayCommand implements Callable<Integer> {
  @Option(
      names = "--trace",
      paramLabel = "FILE",
      description = "Trace file; default: the bundled Azure LLM inference trace 2023 (code).")
  Path trace;

  @Option(names = "--models", defaultValue = "8", description = "Models (${DEFAULT-VALUE}).")
  int models;

  @Option(
      names = "--zipf-s",
      defaultValue = "1.0",
      description = "Zipf exponent (${DEFAULT-VALUE}).")
  double zipfS;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "Seed of the split (${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--stretch",
      defaultValue = "24",
      description = "Multiply trace times by this, as fleet-sim does (${DEFAULT-VALUE}).")
  double stretch;

  @Option(
      names = "--budget",
      defaultValue = "400Gi",
      description = "GPU memory of the shared InferenceBudget (${DEFAULT-VALUE}).")
  String budget;

  @Option(
      names = "--preemption",
      defaultValue = "IdleLowerPriority",
      description = "IdleLowerPriority or Never (${DEFAULT-VALUE}).")
  String preemption;

  @Option(
      names = "--keep-alive",
      defaultValue = "5m",
      split = ",",
      description =
          "Keep-alive of every model: an idle timeout (trace time), always-on, or adaptive"
              + " (${DEFAULT-VALUE}). Several, separated by commas, are replayed one after another,"
              + " each against a fresh sandbox, and compared in one table.")
  List<String> keepAlive;

  @Option(
      names = "--adaptive-fallback",
      defaultValue = "10m",
      description =
          "Idle timeout the adaptive policy uses until it has learned, trace time (${DEFAULT-VALUE},"
              + " as fleet-sim).")
  String adaptiveFallback;

  @Option(
      names = "--hold-timeout",
      defaultValue = "5m",
      description = "Cold-start hold timeout, trace time (${DEFAULT-VALUE}).")
  String holdTimeout;

  @Option(
      names = "--termination-delay",
      defaultValue = "10s",
      description =
          "A terminated replica holds its memory this long, trace time (${DEFAULT-VALUE}).")
  String terminationDelay;

  @Option(
      names = "--tick",
      defaultValue = "2s",
      description = "Controller tick, trace time (${DEFAULT-VALUE}; in-process sandbox only).")
  String tick;

  @Option(
      names = "--speed",
      defaultValue = "60",
      description = "Trace seconds per wall second (${DEFAULT-VALUE}: one trace hour per minute).")
  double speed;

  @Option(
      names = "--start",
      defaultValue = "0s",
      description = "Window start after the first request, trace time (${DEFAULT-VALUE}).")
  String start;

  @Option(
      names = "--duration",
      defaultValue = "1h",
      description = "Window length, trace time, or 'all' (${DEFAULT-VALUE}).")
  String duration;

  @Option(
      names = "--max-concurrency",
      defaultValue = "512",
      description =
          "Most requests in flight, held ones included (${DEFAULT-VALUE}); more wait in the"
              + " generator and are sent late (the report's send lag).")
  int maxConcurrency;

  @Option(
      names = "--max-prompt-tokens",
      defaultValue = "8192",
      description = "Cap on prompt tokens sent (${DEFAULT-VALUE}).")
  int maxPromptTokens;

  @Option(
      names = "--max-completion-tokens",
      defaultValue = "1024",
      description = "Cap on max_tokens sent (${DEFAULT-VALUE}).")
  int maxCompletionTokens;

  @Option(
      names = "--base-url",
      paramLabel = "URL",
      description = "OpenAI base URL of a running system, e.g. http://127.0.0.1:8080/v1.")
  URI baseUrl;

  @Option(
      names = "--kube-url",
      paramLabel = "URL",
      description =
          "With --base-url: its Kubernetes API (the sandbox's embedded API server), to create the"
              + " scenario's models there and watch their pods.")
  String kubeUrl;

  @Option(
      names = "--namespace",
      defaultValue = "replay",
      description = "Namespace of the scenario's objects (${DEFAULT-VALUE}).")
  String namespace;

  @Option(
      names = "--no-fleet-sim",
      description = "Do not run the fleet simulator on the same window for comparison.")
  boolean noFleetSim;

  @Option(
      names = "--out",
      defaultValue = "target/replay",
      paramLabel = "DIR",
      description = "Directory of report.json and report.md (${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--no-progress", description = "Do not draw the progress bar on stderr.")
  boolean noProgress;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(new CommandLine(new ReplayCommand()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter stderr = spec.commandLine().getErr();
    ReplayScenario base = scenario();
    List<KeepAlivePolicy> policies = policies();
    List<TraceRequest> requests =
        trace == null ? TraceReader.readBundledCodeTrace() : TraceReader.read(trace);
    String command =
        "scripts/replay " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
    // Every policy's scenario first: one that cannot run is reported before any replay starts.
    List<ReplayScenario> scenarios = policies.stream().map(base::withPolicy).toList();
    List<ReplayReport> reports = new ArrayList<>();
    for (ReplayScenario scenario : scenarios) {
      KeepAlivePolicy policy = scenario.policy();
      ReplayPlan plan = ReplayPlan.of(requests, new ZipfSplit(models, zipfS, seed), scenario);
      stderr.printf(
          "replay %s: %d requests in the window, %.1f min of trace time at speed %s: about %.0f s"
              + " of wall time%n",
          policy.label(),
          plan.requests().size(),
          plan.windowTraceDuration().toMillis() / 60_000.0,
          speed,
          plan.windowTraceDuration().toMillis() / 1_000.0 / speed);
      stderr.flush();
      // Several policies against one running system need a namespace each.
      String ns =
          policies.size() > 1 && baseUrl != null ? namespace + "-" + policy.label() : namespace;
      Replay replay = new Replay(scenario, plan, ns, maxConcurrency, System::nanoTime);
      ReplayReport report;
      try (ReplayTarget target = target(scenario)) {
        stderr.println("replay: target " + target.openAiBaseUrl());
        report = runWithProgress(replay, target, plan.requests().size());
      }
      reports.add(report);
      stdout.printf(
          "trace %s: window %s + %s of trace time (stretch %s), %d models (Zipf s=%.2f, seed %d),"
              + " budget %s, preemption %s, keep-alive %s%n",
          trace == null ? "bundled azure-llm-2023-code.csv" : trace,
          start,
          duration,
          stretch,
          models,
          zipfS,
          seed,
          budget,
          preemption,
          describe(scenario));
      stdout.print(report.text());
      stdout.flush();
      Path dir = policies.size() > 1 ? out.resolve(policy.label()) : out;
      for (Path written : report.write(dir, command)) {
        stderr.println("wrote " + written);
      }
    }
    if (reports.size() > 1) {
      String table = ReplayReport.comparisonTable(reports);
      stdout.print(table);
      stdout.flush();
      Path comparison = out.resolve("comparison.md");
      Files.createDirectories(out);
      Files.writeString(
          comparison,
          "# Workload replay: keep-alive policies compared\n\n```\n"
              + command
              + "\n```\n\n```\n"
              + table
              + "```\n",
          StandardCharsets.UTF_8);
      stderr.println("wrote " + comparison);
    }
    return 0;
  }

  /** The policy and, for adaptive, the time scale each side runs it at. */
  private static String describe(ReplayScenario scenario) {
    if (!(scenario.policy() instanceof KeepAlivePolicy.Adaptive)) {
      return scenario.policy().label();
    }
    var trace = scenario.adaptiveKeepAlive();
    var wall = scenario.adaptiveKeepAliveWall();
    return String.format(
        Locale.ROOT,
        "adaptive (trace time: %s buckets over %s, fallback %s; sandbox in wall time: %s over %s,"
            + " fallback %s)",
        trace.bucketWidth(),
        trace.histogramRange(),
        trace.fallbackIdleTimeout(),
        wall.bucketWidth(),
        wall.histogramRange(),
        wall.fallbackIdleTimeout());
  }

  private List<KeepAlivePolicy> policies() {
    List<KeepAlivePolicy> policies = new ArrayList<>();
    for (String text : keepAlive) {
      KeepAlivePolicy policy =
          switch (text) {
            case "always-on" -> new KeepAlivePolicy.AlwaysOn();
            case "adaptive" -> new KeepAlivePolicy.Adaptive();
            default -> new KeepAlivePolicy.Fixed(duration(text, "--keep-alive"));
          };
      if (policies.stream().anyMatch(p -> p.label().equals(policy.label()))) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "--keep-alive names " + policy.label() + " twice");
      }
      policies.add(policy);
    }
    return policies;
  }

  private ReplayReport runWithProgress(Replay replay, ReplayTarget target, int planned)
      throws InterruptedException {
    if (noProgress) {
      return replay.run(target, !noFleetSim, generator -> {});
    }
    AtomicReference<LoadGenerator> generator = new AtomicReference<>();
    ScheduledExecutorService ticker =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "replay-progress");
              thread.setDaemon(true);
              return thread;
            });
    try (ProgressBar bar =
        new ProgressBarBuilder()
            .setTaskName("replaying")
            .setInitialMax(planned)
            .setStyle(ProgressBarStyle.ASCII)
            .setUnit(" req", 1)
            .setUpdateIntervalMillis(250)
            .build()) {
      ticker.scheduleAtFixedRate(
          () -> {
            LoadGenerator g = generator.get();
            if (g != null) {
              LoadGenerator.Progress p = g.progress();
              bar.stepTo(p.done() + p.failed());
              bar.setExtraMessage(
                  " sent " + p.sent() + ", done " + p.done() + ", failed " + p.failed());
            }
          },
          0,
          200,
          TimeUnit.MILLISECONDS);
      ReplayReport report = replay.run(target, !noFleetSim, generator::set);
      LoadGenerator.Progress p = generator.get().progress();
      bar.stepTo(p.done() + p.failed());
      bar.setExtraMessage(" sent " + p.sent() + ", done " + p.done() + ", failed " + p.failed());
      return report;
    } finally {
      ticker.shutdownNow();
    }
  }

  ReplayScenario scenario() {
    long budgetBytes = Quantity.getAmountInBytes(new Quantity(budget)).longValueExact();
    boolean preempt =
        switch (preemption) {
          case "IdleLowerPriority" -> true;
          case "Never" -> false;
          default ->
              throw new CommandLine.ParameterException(
                  spec.commandLine(),
                  "--preemption = " + preemption + ", must be IdleLowerPriority or Never");
        };
    Fleet fleet = new Fleet("replay-budget", budgetBytes, preempt, Fleet.defaultModels(models));
    KeepAlivePolicy policy = policies().get(0);
    SimulationSettings defaults = SimulationSettings.defaults();
    SimulationSettings settings =
        new SimulationSettings(
            defaults.start(),
            stretch,
            duration(tick, "--tick"),
            duration(terminationDelay, "--termination-delay"),
            duration(holdTimeout, "--hold-timeout"),
            defaults.sampleInterval());
    Optional<Duration> window =
        duration.equals("all") ? Optional.empty() : Optional.of(duration(duration, "--duration"));
    return new ReplayScenario(
        fleet,
        policy,
        settings,
        speed,
        duration(start, "--start"),
        window,
        maxPromptTokens,
        maxCompletionTokens,
        duration(adaptiveFallback, "--adaptive-fallback"));
  }

  private ReplayTarget target(ReplayScenario scenario) {
    if (baseUrl != null) {
      Optional<KubernetesClient> client = Optional.empty();
      if (kubeUrl != null) {
        Config config = new ConfigBuilder(Config.empty()).withMasterUrl(kubeUrl).build();
        client = Optional.of(new KubernetesClientBuilder().withConfig(config).build());
      }
      return new ExistingTarget(baseUrl, client);
    }
    if (kubeUrl != null) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--kube-url needs --base-url (the proxy of the same system)");
    }
    PrintWriter stderr = spec.commandLine().getErr();
    return SandboxTarget.start(
        scenario,
        step -> {
          stderr.println("sandbox: " + step);
          stderr.flush();
        });
  }

  private Duration duration(String text, String option) {
    try {
      return GoDurations.parse(text, option);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
    }
  }

  /**
   * A system that runs already: requests go to its proxy; its API server, when given, is watched.
   */
  record ExistingTarget(URI openAiBaseUrl, Optional<KubernetesClient> kubernetes)
      implements ReplayTarget {
    @Override
    public void close() {
      kubernetes.ifPresent(KubernetesClient::close);
    }
  }
}
