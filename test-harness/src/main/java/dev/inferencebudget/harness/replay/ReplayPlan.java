package dev.inferencebudget.harness.replay;

import dev.inferencebudget.harness.fleet.TraceRequest;
import dev.inferencebudget.harness.fleet.ZipfSplit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The requests of a window of the trace, dealt to models exactly as the fleet simulator deals the
 * whole trace (the Zipf draw runs over every request of the trace, then the window is cut out, so a
 * request goes to the same model whatever the window).
 *
 * @param requests what the load generator sends, in arrival order
 * @param windowTrace the same requests as fleet-simulator input: unstretched offsets from the
 *     window's start, uncapped token counts
 * @param windowAssignment the model of each request of {@code windowTrace}
 * @param windowTraceDuration the window's length in trace time (the given duration, or up to the
 *     last request when the window runs to the end of the trace)
 */
public record ReplayPlan(
    List<PlannedRequest> requests,
    List<TraceRequest> windowTrace,
    int[] windowAssignment,
    Duration windowTraceDuration) {
  public ReplayPlan {
    requests = List.copyOf(requests);
    windowTrace = List.copyOf(windowTrace);
    Objects.requireNonNull(windowAssignment, "windowAssignment");
    Objects.requireNonNull(windowTraceDuration, "windowTraceDuration");
    if (windowAssignment.length != windowTrace.size() || requests.size() != windowTrace.size()) {
      throw new IllegalArgumentException("requests, window trace and assignment differ in length");
    }
  }

  /**
   * Cuts the scenario's window out of {@code trace} (unstretched, as read) split by {@code split}.
   */
  public static ReplayPlan of(List<TraceRequest> trace, ZipfSplit split, ReplayScenario scenario) {
    Objects.requireNonNull(trace, "trace");
    Objects.requireNonNull(split, "split");
    Objects.requireNonNull(scenario, "scenario");
    if (split.models() != scenario.fleet().models().size()) {
      throw new IllegalArgumentException(
          "split over "
              + split.models()
              + " models, fleet has "
              + scenario.fleet().models().size());
    }
    double stretch = scenario.settings().stretch();
    int[] assignment = split.assign(trace.size());
    long startMicros = scenario.windowStart().toNanos() / 1_000;
    long endMicros =
        scenario
            .windowDuration()
            .map(d -> startMicros + d.toNanos() / 1_000)
            .orElse(Long.MAX_VALUE);
    // The window's first request defines offset 0 of the unstretched window trace, so the fleet
    // simulator's clock starts where the replay's does: at the window's start.
    long startUnstretchedMicros = (long) Math.ceil(startMicros / stretch);
    List<PlannedRequest> requests = new ArrayList<>();
    List<TraceRequest> windowTrace = new ArrayList<>();
    List<Integer> windowModels = new ArrayList<>();
    long lastTraceOffsetMicros = 0;
    for (int i = 0; i < trace.size(); i++) {
      TraceRequest row = trace.get(i);
      long stretchedMicros = Math.round(row.offsetMicros() * stretch);
      if (stretchedMicros < startMicros || stretchedMicros >= endMicros) {
        continue;
      }
      long traceOffsetMicros = stretchedMicros - startMicros;
      long wallOffsetNanos = Math.round(traceOffsetMicros * 1_000 / scenario.speed());
      int model = assignment[i];
      int prompt = Math.max(1, Math.min(row.contextTokens(), scenario.maxPromptTokens()));
      int completion = Math.max(1, Math.min(row.generatedTokens(), scenario.maxCompletionTokens()));
      boolean capped =
          row.contextTokens() > scenario.maxPromptTokens()
              || row.generatedTokens() > scenario.maxCompletionTokens();
      requests.add(
          new PlannedRequest(
              requests.size(),
              model,
              scenario.fleet().models().get(model).name(),
              traceOffsetMicros,
              wallOffsetNanos,
              prompt,
              completion,
              capped));
      windowTrace.add(
          new TraceRequest(
              Math.max(0, row.offsetMicros() - startUnstretchedMicros),
              row.contextTokens(),
              row.generatedTokens()));
      windowModels.add(model);
      lastTraceOffsetMicros = traceOffsetMicros;
    }
    Duration windowTraceDuration =
        scenario.windowDuration().orElse(Duration.ofNanos(lastTraceOffsetMicros * 1_000));
    return new ReplayPlan(
        requests,
        windowTrace,
        windowModels.stream().mapToInt(Integer::intValue).toArray(),
        windowTraceDuration);
  }

  /** Planned requests per model index. */
  public long[] requestsPerModel(int models) {
    long[] counts = new long[models];
    Arrays.stream(windowAssignment).forEach(m -> counts[m]++);
    return counts;
  }
}
