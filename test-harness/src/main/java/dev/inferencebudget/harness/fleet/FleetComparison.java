package dev.inferencebudget.harness.fleet;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLongArray;
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
   * Runs every policy, on up to {@code threads} threads: the runs share nothing (each has its own
   * autoscaler and cluster), so the results do not depend on the thread count.
   *
   * @param progress called with the requests resolved so far over all runs (at most {@code
   *     policies.size() * trace.size()}), from any of the threads
   */
  public List<PolicyResult> run(
      List<KeepAlivePolicy> policies, int threads, LongConsumer progress) {
    Objects.requireNonNull(progress, "progress");
    if (threads < 1) {
      throw new IllegalArgumentException("threads = " + threads + ", must be >= 1");
    }
    int[] assignment = split.assign(trace.size());
    AtomicLongArray resolvedByRun = new AtomicLongArray(policies.size());
    List<Callable<PolicyResult>> runs = new ArrayList<>(policies.size());
    for (int i = 0; i < policies.size(); i++) {
      KeepAlivePolicy policy = policies.get(i);
      int run = i;
      runs.add(
          () -> {
            FleetSimulation simulation =
                new FleetSimulation(
                    fleet,
                    settings,
                    trace,
                    assignment,
                    autoscalers.create(fleet, policy),
                    policy.label());
            return simulation.run(
                resolved -> {
                  resolvedByRun.set(run, resolved);
                  long total = 0;
                  for (int r = 0; r < resolvedByRun.length(); r++) {
                    total += resolvedByRun.get(r);
                  }
                  progress.accept(total);
                });
          });
    }
    ExecutorService pool =
        Executors.newFixedThreadPool(Math.min(threads, Math.max(1, policies.size())));
    try {
      List<PolicyResult> results = new ArrayList<>(policies.size());
      for (Future<PolicyResult> future : pool.invokeAll(runs)) {
        results.add(future.get());
      }
      return List.copyOf(results);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }
}
