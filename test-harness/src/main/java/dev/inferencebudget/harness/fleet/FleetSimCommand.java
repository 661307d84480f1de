package dev.inferencebudget.harness.fleet;

import io.fabric8.kubernetes.api.model.Quantity;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fleet-sim}: replays a trace through the decision core once per keep-alive policy and
 * compares them.
 */
@Command(
    name = "fleet-sim",
    mixinStandardHelpOptions = true,
    description = {
      "Replays a request trace (TIMESTAMP,ContextTokens,GeneratedTokens) in virtual time through the decision core,"
          + " split across models by a seeded Zipf draw and stretched in time, once per keep-alive policy"
          + " (always-on, fixed timeouts, adaptive), and compares GPU-memory-hours, cold starts and added wait.",
      "Writes summary.csv, timeseries.csv and PNG charts to --out; prints the summary table on stdout."
    },
    sortOptions = false)
public final class FleetSimCommand implements Callable<Integer> {
  @Option(
      names = "--trace",
      paramLabel = "FILE",
      description = "Trace file; default: the bundled Azure LLM inference trace 2023 (code).")
  Path trace;

  @Option(
      names = "--models",
      defaultValue = "8",
      description = "Models to split the trace across (${DEFAULT-VALUE}).")
  int models;

  @Option(
      names = "--zipf-s",
      defaultValue = "1.0",
      description = "Zipf exponent of the split (${DEFAULT-VALUE}).")
  double zipfS;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "Seed of the split (${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--stretch",
      defaultValue = "24",
      description =
          "Multiply trace times by this (${DEFAULT-VALUE}: the 1-hour trace becomes about a day).")
  double stretch;

  @Option(
      names = "--budget",
      defaultValue = "400Gi",
      description =
          "GPU memory of the shared InferenceBudget, a Kubernetes quantity (${DEFAULT-VALUE}).")
  String budget;

  @Option(
      names = "--preemption",
      defaultValue = "IdleLowerPriority",
      description = "Budget preemption: IdleLowerPriority or Never (${DEFAULT-VALUE}).")
  String preemption;

  @Option(
      names = "--keep-alive",
      split = ",",
      defaultValue = "1m,5m,10m,30m",
      description = "Idle timeouts of the fixed policies (${DEFAULT-VALUE}).")
  List<String> keepAlives;

  @Option(
      names = "--adaptive-fallback",
      defaultValue = "10m",
      description =
          "Idle timeout the adaptive policy uses until it has learned (${DEFAULT-VALUE}).")
  String adaptiveFallback;

  @Option(
      names = "--tick",
      defaultValue = "2s",
      description = "Controller tick (${DEFAULT-VALUE}).")
  String tick;

  @Option(
      names = "--termination-delay",
      defaultValue = "10s",
      description = "A terminated replica holds its GPU memory this long (${DEFAULT-VALUE}).")
  String terminationDelay;

  @Option(
      names = "--hold-timeout",
      defaultValue = "5m",
      description =
          "A request held for a cold start longer than this gets a 503 (${DEFAULT-VALUE}).")
  String holdTimeout;

  @Option(
      names = "--sample",
      defaultValue = "1m",
      description = "Time-series sample interval (${DEFAULT-VALUE}).")
  String sample;

  @Option(
      names = "--out",
      defaultValue = "target/fleet-sim",
      paramLabel = "DIR",
      description = "Output directory (${DEFAULT-VALUE}).")
  Path out;

  @Option(
      names = "--threads",
      description = "Policies replayed in parallel (default: the available processors).")
  int threads = Runtime.getRuntime().availableProcessors();

  @Option(names = "--no-progress", description = "Do not draw the progress bar on stderr.")
  boolean noProgress;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(new CommandLine(new FleetSimCommand()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter stderr = spec.commandLine().getErr();
    Fleet fleet = fleet();
    SimulationSettings defaults = SimulationSettings.defaults();
    SimulationSettings settings =
        new SimulationSettings(
            defaults.start(),
            stretch,
            Durations.parse(tick),
            Durations.parse(terminationDelay),
            Durations.parse(holdTimeout),
            Durations.parse(sample));
    List<TraceRequest> requests =
        trace == null ? TraceReader.readBundledCodeTrace() : TraceReader.read(trace);
    List<KeepAlivePolicy> policies = policies();
    FleetComparison comparison =
        new FleetComparison(
            fleet,
            settings,
            requests,
            new ZipfSplit(models, zipfS, seed),
            DecisionCoreAutoscaler.factory(Durations.parse(adaptiveFallback)));

    long startNanos = System.nanoTime();
    List<PolicyResult> results;
    if (noProgress) {
      results = comparison.run(policies, threads, resolved -> {});
    } else {
      try (ProgressBar bar =
          new ProgressBarBuilder()
              .setTaskName("replaying " + policies.size() + " policies")
              .setInitialMax((long) policies.size() * requests.size())
              .setStyle(ProgressBarStyle.ASCII)
              .setUnit(" req", 1)
              .setUpdateIntervalMillis(250)
              .build()) {
        results = comparison.run(policies, threads, bar::stepTo);
      }
    }
    double seconds = (System.nanoTime() - startNanos) / 1e9;

    FleetReport report = new FleetReport(fleet, results);
    stdout.printf(
        "trace %s: %d requests, stretch %.1f, %d models (Zipf s=%.2f, seed %d), budget %s, preemption %s%n",
        trace == null ? "bundled azure-llm-2023-code.csv" : trace,
        requests.size(),
        stretch,
        models,
        zipfS,
        seed,
        budget,
        preemption);
    stdout.print(report.table());
    stdout.printf("replayed %d policies in %.1f s of wall time%n", policies.size(), seconds);
    for (Path written : report.write(out)) {
      stderr.println("wrote " + written);
    }
    stdout.flush();
    return 0;
  }

  private Fleet fleet() {
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
    return new Fleet("fleet-budget", budgetBytes, preempt, Fleet.defaultModels(models));
  }

  private List<KeepAlivePolicy> policies() {
    List<KeepAlivePolicy> policies = new ArrayList<>();
    policies.add(new KeepAlivePolicy.AlwaysOn());
    for (String keepAlive : keepAlives) {
      Duration idleTimeout = Durations.parse(keepAlive);
      policies.add(new KeepAlivePolicy.Fixed(idleTimeout));
    }
    policies.add(new KeepAlivePolicy.Adaptive());
    return policies;
  }
}
