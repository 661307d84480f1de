package dev.inferencebudget.harness.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferencebudget.controller.api.v1alpha1.IdleGapHistogram;
import dev.inferencebudget.controller.decision.KeepAliveHistogram;
import dev.inferencebudget.harness.fleet.Fleet;
import dev.inferencebudget.harness.fleet.ModelProfile;
import dev.inferencebudget.harness.fleet.PolicyResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The replay's figures, in trace time (wall time × speed-up) unless a name says wall: what users
 * saw (latency percentiles of served requests, all / warm / cold arrivals; refusals by reason) and
 * what the fleet cost (GPU-memory-hours against always-on, cold starts), next to the fleet
 * simulator's figures for the same window when given.
 *
 * @param scenario what was replayed
 * @param plan the requests planned
 * @param outcomes one per planned request, in plan order
 * @param usage what the cluster watch measured (empty when the cluster was not watched)
 * @param simulated the fleet simulator on the same window: the replayed policy, then always-on
 *     (empty when not run)
 * @param wallNanos wall time of the replay, first send to last outcome
 * @param learnedIdleGaps with the adaptive policy: what the sandbox's controller had learned per
 *     model (its {@code status.idleGaps}, in wall time) when the replay ended; empty otherwise
 */
public record ReplayReport(
    ReplayScenario scenario,
    ReplayPlan plan,
    List<RequestOutcome> outcomes,
    Optional<FleetMeter.Usage> usage,
    List<PolicyResult> simulated,
    long wallNanos,
    Map<String, IdleGapHistogram> learnedIdleGaps) {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public ReplayReport {
    Objects.requireNonNull(scenario, "scenario");
    Objects.requireNonNull(plan, "plan");
    outcomes = List.copyOf(outcomes);
    Objects.requireNonNull(usage, "usage");
    simulated = List.copyOf(simulated);
    learnedIdleGaps = Map.copyOf(new TreeMap<>(learnedIdleGaps));
    if (outcomes.size() != plan.requests().size()) {
      throw new IllegalArgumentException(
          outcomes.size() + " outcomes for " + plan.requests().size() + " planned requests");
    }
  }

  /** Without learned idle gaps (a fixed or always-on policy, or no cluster watched). */
  public ReplayReport(
      ReplayScenario scenario,
      ReplayPlan plan,
      List<RequestOutcome> outcomes,
      Optional<FleetMeter.Usage> usage,
      List<PolicyResult> simulated,
      long wallNanos) {
    this(scenario, plan, outcomes, usage, simulated, wallNanos, Map.of());
  }

  /**
   * The keep-alive the sandbox's controller would apply to each model at the end of the replay, in
   * trace time: learned from its histogram when that is representative, else the fallback, with the
   * counts behind it. Computed with the decision core's own {@link KeepAliveHistogram#window} and
   * the wall-time policy the controller runs.
   */
  public Map<String, String> learnedKeepAlive() {
    Map<String, String> learned = new TreeMap<>();
    dev.inferencebudget.controller.decision.KeepAlivePolicy.Adaptive policy =
        scenario.adaptiveKeepAliveWall();
    learnedIdleGaps.forEach(
        (model, gaps) -> {
          Optional<KeepAliveHistogram> histogram = histogram(gaps);
          if (histogram.isEmpty()) {
            learned.put(model, "nothing learned");
            return;
          }
          KeepAliveHistogram h = histogram.get();
          String counts = h.inRange() + " gaps in range, " + h.outOfBounds() + " out of range";
          learned.put(
              model,
              h.window(policy)
                  .map(w -> "learned " + traceSeconds(w.keepAlive()) + " (" + counts + ")")
                  .orElse(
                      "fallback "
                          + traceSeconds(policy.fallbackIdleTimeout())
                          + " (not representative: "
                          + counts
                          + ")"));
        });
    return learned;
  }

  private String traceSeconds(java.time.Duration wall) {
    return String.format(Locale.ROOT, "%.0f s", wall.toNanos() * scenario.speed() / 1e9);
  }

  /** A status histogram as the decision core reads it (as the controller's edge conversion). */
  static Optional<KeepAliveHistogram> histogram(IdleGapHistogram gaps) {
    Long widthMillis =
        gaps.bucketWidthMillis() != null
            ? gaps.bucketWidthMillis()
            : gaps.bucketWidthSeconds() == null ? null : gaps.bucketWidthSeconds() * 1000;
    if (widthMillis == null || gaps.buckets() == null || gaps.buckets() < 1) {
      return Optional.empty();
    }
    long[] counts = new long[gaps.buckets()];
    gaps.counts().forEach((index, count) -> counts[Integer.parseInt(index)] = count);
    return Optional.of(
        new KeepAliveHistogram(
            java.time.Duration.ofMillis(widthMillis),
            counts,
            gaps.outOfRange() == null ? 0 : gaps.outOfRange()));
  }

  public long planned() {
    return plan.requests().size();
  }

  public long served() {
    return outcomes.stream().filter(RequestOutcome::served).count();
  }

  /** Answered with an HTTP error status (a refusal by the system). */
  public long refused() {
    return outcomes.stream().filter(o -> o.status() != 200 && o.status() != 0).count();
  }

  /** No complete answer: no response at all, or a 200 whose stream ended early. */
  public long failed() {
    return outcomes.stream()
        .filter(o -> o.status() == 0 || (o.status() == 200 && !o.served()))
        .count();
  }

  /** Requests that arrived while their model had no ready replica. */
  public long coldArrivals() {
    return outcomes.stream().filter(o -> o.arrival() == RequestOutcome.Arrival.COLD).count();
  }

  /** Refusals and failures by "status code", most frequent first in the map's order of keys. */
  public Map<String, Long> reasons() {
    Map<String, Long> reasons = new TreeMap<>();
    for (RequestOutcome outcome : outcomes) {
      if (!outcome.served()) {
        reasons.merge(outcome.reason(), 1L, Long::sum);
      }
    }
    return reasons;
  }

  /** Time to first token of served requests matching {@code filter}, in trace-time ms, sorted. */
  public double[] timeToFirstTokenMillis(Predicate<RequestOutcome> filter) {
    return outcomes.stream()
        .filter(RequestOutcome::served)
        .filter(filter)
        .filter(o -> o.timeToFirstTokenNanos().isPresent())
        .mapToDouble(o -> traceMillis(o.timeToFirstTokenNanos().get()))
        .sorted()
        .toArray();
  }

  /** Total latency of served requests matching {@code filter}, in trace-time ms, sorted. */
  public double[] latencyMillis(Predicate<RequestOutcome> filter) {
    return outcomes.stream()
        .filter(RequestOutcome::served)
        .filter(filter)
        .mapToDouble(o -> traceMillis(o.latencyNanos()))
        .sorted()
        .toArray();
  }

  /**
   * The fleet simulator's "added wait" (arrival to start of service) as far as the replay can see
   * it: time to first token minus the request's prefill time at the model's trace-time rate, in
   * trace-time ms, sorted. What remains is holding, queueing and the system's own overhead.
   */
  public double[] addedWaitMillis() {
    List<Double> waits = new ArrayList<>();
    for (RequestOutcome outcome : outcomes) {
      if (!outcome.served() || outcome.timeToFirstTokenNanos().isEmpty()) {
        continue;
      }
      PlannedRequest request = plan.requests().get(outcome.index());
      ModelProfile model = scenario.fleet().models().get(request.model());
      double prefillMillis = request.promptTokens() / model.prefillTokensPerSecond() * 1_000;
      waits.add(Math.max(0, traceMillis(outcome.timeToFirstTokenNanos().get()) - prefillMillis));
    }
    return waits.stream().mapToDouble(Double::doubleValue).sorted().toArray();
  }

  /** The p-quantile (nearest rank) of sorted values; 0 when there are none. */
  public static double quantile(double[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  /** The send lag (generator delay) at the 99th percentile, in wall ms. */
  public double sendLagP99WallMillis() {
    double[] lags = outcomes.stream().mapToDouble(o -> o.sendLagNanos() / 1e6).sorted().toArray();
    return quantile(lags, 0.99);
  }

  /** GPU-memory GiB-hours reserved, in trace time. */
  public Optional<Double> gpuMemoryGibHours() {
    return usage.map(u -> u.gpuMemoryByteHours() * scenario.speed() / Fleet.GIB);
  }

  /** Always-on for the same trace time: one replica of every model all the time. */
  public Optional<Double> alwaysOnGibHours() {
    return usage.map(
        u ->
            scenario.fleet().oneReplicaEachBytes()
                / (double) Fleet.GIB
                * (u.measuredNanos() * scenario.speed() / 3.6e12));
  }

  private double traceMillis(long wallNanos) {
    return wallNanos * scenario.speed() / 1e6;
  }

  private static final Predicate<RequestOutcome> ALL = o -> true;
  private static final Predicate<RequestOutcome> WARM =
      o -> o.arrival() == RequestOutcome.Arrival.WARM;
  private static final Predicate<RequestOutcome> COLD =
      o -> o.arrival() == RequestOutcome.Arrival.COLD;

  /** The human-readable summary (stdout, and the body of the markdown file). */
  public String text() {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            Locale.ROOT,
            "replayed %d requests in %.1f s of wall time at speed %s (%.1f min of trace time)%n",
            planned(),
            wallNanos / 1e9,
            fmt(scenario.speed()),
            wallNanos * scenario.speed() / 6e10));
    out.append(
        String.format(
            Locale.ROOT,
            "requests: %d planned = %d served + %d refused + %d failed; %d arrived cold (%.1f%%);"
                + " generator send lag p99 %.1f ms (wall)%n",
            planned(),
            served(),
            refused(),
            failed(),
            coldArrivals(),
            planned() == 0 ? 0.0 : 100.0 * coldArrivals() / planned(),
            sendLagP99WallMillis()));
    out.append("latency of served requests, trace-time ms (wall ms = trace ms / speed):\n");
    out.append(
        String.format(Locale.ROOT, "%-22s %7s %10s %10s %10s%n", "", "count", "p50", "p95", "p99"));
    latencyRow(out, "TTFT all", timeToFirstTokenMillis(ALL));
    latencyRow(out, "TTFT warm arrivals", timeToFirstTokenMillis(WARM));
    latencyRow(out, "TTFT cold arrivals", timeToFirstTokenMillis(COLD));
    latencyRow(out, "total all", latencyMillis(ALL));
    latencyRow(out, "total warm arrivals", latencyMillis(WARM));
    latencyRow(out, "total cold arrivals", latencyMillis(COLD));
    latencyRow(out, "added wait (TTFT-prefill)", addedWaitMillis());
    Map<String, Long> reasons = reasons();
    out.append("refusals and failures by status and code: ")
        .append(reasons.isEmpty() ? "none" : reasons.toString())
        .append('\n');
    if (usage.isPresent()) {
      FleetMeter.Usage u = usage.get();
      double used = gpuMemoryGibHours().orElseThrow();
      double alwaysOn = alwaysOnGibHours().orElseThrow();
      out.append(
          String.format(
              Locale.ROOT,
              "fleet: %d cold starts, %d replica starts, GPU memory %.1f GiB-hours against %.1f"
                  + " always-on (one replica of each model), saved %.1f%%, peak %d GiB%n",
              u.totalColdStarts(),
              u.totalReplicaStarts(),
              used,
              alwaysOn,
              alwaysOn == 0 ? 0.0 : 100 * (alwaysOn - used) / alwaysOn,
              u.peakReservedBytes() / Fleet.GIB));
    } else {
      out.append("fleet: not watched (no Kubernetes API given)\n");
    }
    Map<String, String> learned = learnedKeepAlive();
    if (!learned.isEmpty()) {
      out.append("adaptive keep-alive of the sandbox's controller at the end, per model:\n");
      learned.forEach(
          (model, text) -> out.append(String.format(Locale.ROOT, "  %-10s %s%n", model, text)));
    }
    if (!simulated.isEmpty()) {
      out.append(comparisonTable());
    }
    return out.toString();
  }

  /** The replay next to the fleet simulator on the same window, same columns as fleet-sim. */
  public String comparisonTable() {
    return comparisonTable(List.of(this));
  }

  /**
   * Several replays of the same window (one per keep-alive policy) next to the fleet simulator's
   * runs of it: each simulated policy once (always-on is simulated with every replay), then each
   * replay.
   */
  public static String comparisonTable(List<ReplayReport> reports) {
    StringBuilder out = new StringBuilder();
    out.append(
        "the same window through the fleet simulator (virtual time) and through the replay:\n");
    String format = "%-22s %10s %7s %8s %8s %10s %10s %8s %8s %6s%n";
    out.append(
        String.format(
            Locale.ROOT,
            format,
            "run",
            "GiB-hours",
            "cold",
            "replica",
            "waited",
            "p50 wait",
            "p99 wait",
            "refused",
            "timeout",
            "peak"));
    Map<String, PolicyResult> simulated = new LinkedHashMap<>();
    for (ReplayReport report : reports) {
      report.simulated().forEach(result -> simulated.putIfAbsent(result.policy(), result));
    }
    for (PolicyResult result : simulated.values()) {
      out.append(
          String.format(
              Locale.ROOT,
              format,
              "fleet-sim " + result.policy(),
              String.format(Locale.ROOT, "%.1f", result.gpuMemoryGibHours()),
              result.coldStarts(),
              result.replicaStarts(),
              String.format(Locale.ROOT, "%.2f%%", 100 * result.coldStartWaitShare()),
              String.format(Locale.ROOT, "%.0f", result.addedWaitMillis(0.5)),
              String.format(Locale.ROOT, "%.0f", result.addedWaitMillis(0.99)),
              result.refusedByBudget(),
              result.holdTimeouts(),
              result.peakReservedBytes() / Fleet.GIB));
    }
    for (ReplayReport report : reports) {
      report.replayRow(out, format);
    }
    return out.toString();
  }

  private void replayRow(StringBuilder out, String format) {
    double[] added = addedWaitMillis();
    long timeouts = outcomes.stream().filter(o -> o.status() == 503).count();
    out.append(
        String.format(
            Locale.ROOT,
            format,
            "replay " + scenario.policy().label(),
            gpuMemoryGibHours().map(v -> String.format(Locale.ROOT, "%.1f", v)).orElse("-"),
            usage.map(u -> Long.toString(u.totalColdStarts())).orElse("-"),
            usage.map(u -> Long.toString(u.totalReplicaStarts())).orElse("-"),
            String.format(
                Locale.ROOT, "%.2f%%", planned() == 0 ? 0.0 : 100.0 * coldArrivals() / planned()),
            String.format(Locale.ROOT, "%.0f", quantile(added, 0.5)),
            String.format(Locale.ROOT, "%.0f", quantile(added, 0.99)),
            refused() - timeouts,
            timeouts,
            usage.map(u -> Long.toString(u.peakReservedBytes() / Fleet.GIB)).orElse("-")));
  }

  private static void latencyRow(StringBuilder out, String label, double[] sorted) {
    out.append(
        String.format(
            Locale.ROOT,
            "%-22s %7d %10.0f %10.0f %10.0f%n",
            label,
            sorted.length,
            quantile(sorted, 0.5),
            quantile(sorted, 0.95),
            quantile(sorted, 0.99)));
  }

  /** The figures as JSON (every number of {@link #text()}). */
  public ObjectNode json() {
    ObjectNode root = JSON.createObjectNode();
    ObjectNode s = root.putObject("scenario");
    s.put("models", scenario.fleet().models().size());
    s.put("budgetGiB", scenario.fleet().budgetGpuMemoryBytes() / (double) Fleet.GIB);
    s.put("policy", scenario.policy().label());
    s.put("stretch", scenario.settings().stretch());
    s.put("speed", scenario.speed());
    s.put("windowStartSeconds", scenario.windowStart().toMillis() / 1e3);
    s.put("windowTraceSeconds", plan.windowTraceDuration().toMillis() / 1e3);
    s.put("maxPromptTokens", scenario.maxPromptTokens());
    s.put("maxCompletionTokens", scenario.maxCompletionTokens());
    s.put("cappedRequests", plan.requests().stream().filter(PlannedRequest::capped).count());
    ObjectNode r = root.putObject("requests");
    r.put("planned", planned());
    r.put("served", served());
    r.put("refused", refused());
    r.put("failed", failed());
    r.put("coldArrivals", coldArrivals());
    r.put("sendLagP99WallMillis", sendLagP99WallMillis());
    ObjectNode reasons = root.putObject("refusalsByReason");
    reasons().forEach(reasons::put);
    ObjectNode latency = root.putObject("latencyTraceMillis");
    putQuantiles(latency.putObject("ttftAll"), timeToFirstTokenMillis(ALL));
    putQuantiles(latency.putObject("ttftWarm"), timeToFirstTokenMillis(WARM));
    putQuantiles(latency.putObject("ttftCold"), timeToFirstTokenMillis(COLD));
    putQuantiles(latency.putObject("totalAll"), latencyMillis(ALL));
    putQuantiles(latency.putObject("totalWarm"), latencyMillis(WARM));
    putQuantiles(latency.putObject("totalCold"), latencyMillis(COLD));
    putQuantiles(latency.putObject("addedWait"), addedWaitMillis());
    usage.ifPresent(
        u -> {
          ObjectNode f = root.putObject("fleet");
          f.put("coldStarts", u.totalColdStarts());
          f.put("replicaStarts", u.totalReplicaStarts());
          f.put("coldStartsPerModel", Arrays.toString(u.coldStarts()));
          f.put("gpuMemoryGibHours", gpuMemoryGibHours().orElseThrow());
          f.put("alwaysOnGibHours", alwaysOnGibHours().orElseThrow());
          f.put("peakReservedGiB", u.peakReservedBytes() / (double) Fleet.GIB);
          f.put("measuredTraceSeconds", u.measuredNanos() * scenario.speed() / 1e9);
        });
    for (PolicyResult result : simulated) {
      ObjectNode sim = root.withArray("fleetSim").addObject();
      sim.put("policy", result.policy());
      sim.put("gpuMemoryGibHours", result.gpuMemoryGibHours());
      sim.put("coldStarts", result.coldStarts());
      sim.put("replicaStarts", result.replicaStarts());
      sim.put("served", result.served());
      sim.put("refusedByBudget", result.refusedByBudget());
      sim.put("holdTimeouts", result.holdTimeouts());
      sim.put("waitedForColdStart", result.waitedForColdStart());
      sim.put("addedWaitP50Millis", result.addedWaitMillis(0.5));
      sim.put("addedWaitP99Millis", result.addedWaitMillis(0.99));
      sim.put("peakReservedGiB", result.peakReservedBytes() / (double) Fleet.GIB);
    }
    Map<String, String> learned = learnedKeepAlive();
    if (!learned.isEmpty()) {
      ObjectNode keepAlive = root.putObject("learnedKeepAlive");
      learned.forEach(keepAlive::put);
    }
    root.put("wallSeconds", wallNanos / 1e9);
    return root;
  }

  private static void putQuantiles(ObjectNode node, double[] sorted) {
    node.put("count", sorted.length);
    node.put("p50", quantile(sorted, 0.5));
    node.put("p95", quantile(sorted, 0.95));
    node.put("p99", quantile(sorted, 0.99));
  }

  /** Writes {@code report.json} and {@code report.md} into {@code dir}; returns their paths. */
  public List<Path> write(Path dir, String command) {
    try {
      Files.createDirectories(dir);
      Path json = dir.resolve("report.json");
      Files.writeString(json, JSON.writeValueAsString(json()), StandardCharsets.UTF_8);
      Path markdown = dir.resolve("report.md");
      Files.writeString(
          markdown,
          "# Workload replay\n\n```\n" + command + "\n```\n\n```\n" + text() + "```\n",
          StandardCharsets.UTF_8);
      return List.of(json, markdown);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the report to " + dir, e);
    }
  }

  private static String fmt(double value) {
    return value == Math.rint(value)
        ? Long.toString((long) value)
        : String.format(Locale.ROOT, "%.2f", value);
  }
}
