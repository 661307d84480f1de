package dev.inferencebudget.harness.fleet;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * Replays one trace, split the same way, once per policy, each run with a fresh autoscaler and a
 * fresh cluster, so the policies see identical arrivals.
 *
 * @param fleet the models and their budget
 * @param settings controller and cluster behaviour
 * @param trace the requests, unstretched
 * @param split how requests are dealt to models
 * @param autoscalers makes the autoscaler of each run
 */
public record FleetComparison(
    Fleet fleet,
    SimulationSettings settings,
    List<TraceRequest> trace,
    ZipfSplit split,
    FleetAutoscaler.Factory autoscalers) {
  public FleetComparison {
    Objects.requireNonNull(fleet, "fleet");
    Objects.requireNonNull(settings, "settings");
    trace = List.copyOf(trace);
    Objects.requireNonNull(split, "split");
    Objects.requireNonNull(autoscalers, "autoscalers");
    if (split.models() != fleet.models().size()) {
      throw new IllegalArgumentException(
          "split over " + split.models() + " models, fleet has " + fleet.models().size());
    }
  }

  /**
   * Runs every policy in order.
   *
   * @param progress called with the requests resolved so far over all runs (at most {@code
   *     policies.size() * trace.size()})
   */
  public List<PolicyResult> run(List<KeepAlivePolicy> policies, LongConsumer progress) {
    Objects.requireNonNull(progress, "progress");
    int[] assignment = split.assign(trace.size());
    List<PolicyResult> results = new ArrayList<>(policies.size());
    for (int i = 0; i < policies.size(); i++) {
      KeepAlivePolicy policy = policies.get(i);
      long before = (long) i * trace.size();
      FleetSimulation simulation =
          new FleetSimulation(
              fleet,
              settings,
              trace,
              assignment,
              autoscalers.create(fleet, policy),
              policy.label());
      results.add(simulation.run(resolved -> progress.accept(before + resolved)));
    }
    return List.copyOf(results);
  }
}
