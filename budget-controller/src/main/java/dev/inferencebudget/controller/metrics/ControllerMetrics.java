package dev.inferencebudget.controller.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The controller's metrics. Budgets and models that disappear are removed from the gauges so a
 * deleted model does not linger in dashboards.
 */
public final class ControllerMetrics {

  /** Every model state name, so that {@code ibc_model_state} shows exactly one 1 per model. */
  private final List<String> stateNames;

  private final Gauge budgetReservedBytes;
  private final Gauge budgetTotalBytes;
  private final Gauge budgetObservedBytes;
  private final Gauge modelObservedBytes;
  private final Set<String> knownObservedModels = new HashSet<>();
  private final Set<String> knownObservedBudgets = new HashSet<>();
  private final Gauge modelDesiredReplicas;
  private final Gauge modelReadyReplicas;
  private final Gauge modelState;
  private final Histogram coldStartSeconds;
  private final Counter decisions;
  private final Histogram cycleSeconds;
  private final Gauge leader;
  private final Counter conflicts;

  private final Set<String> knownBudgets = new HashSet<>();
  private final Map<String, ModelFigures> knownModels = new HashMap<>();

  public ControllerMetrics(PrometheusRegistry registry, List<String> stateNames) {
    Objects.requireNonNull(registry, "registry");
    this.stateNames = List.copyOf(Objects.requireNonNull(stateNames, "stateNames"));
    budgetReservedBytes =
        Gauge.builder()
            .name("ibc_budget_reserved_bytes")
            .help("GPU memory reserved from the budget by its models' replicas")
            .labelNames("budget")
            .register(registry);
    budgetObservedBytes =
        Gauge.builder()
            .name("ibc_budget_observed_bytes")
            .help("GPU memory the budget's ready replicas were observed to use (vLLM /metrics)")
            .labelNames("budget")
            .register(registry);
    modelObservedBytes =
        Gauge.builder()
            .name("ibc_model_observed_gpu_memory_bytes")
            .help("GPU memory the model's ready replicas were observed to use (vLLM /metrics)")
            .labelNames("model")
            .register(registry);
    budgetTotalBytes =
        Gauge.builder()
            .name("ibc_budget_total_bytes")
            .help("The budget's GPU memory (spec.gpuMemory)")
            .labelNames("budget")
            .register(registry);
    modelDesiredReplicas =
        Gauge.builder()
            .name("ibc_model_desired_replicas")
            .help("Replicas the controller decided for the model")
            .labelNames("model")
            .register(registry);
    modelReadyReplicas =
        Gauge.builder()
            .name("ibc_model_ready_replicas")
            .help("Ready replicas of the model")
            .labelNames("model")
            .register(registry);
    modelState =
        Gauge.builder()
            .name("ibc_model_state")
            .help("1 for the model's current state, 0 for the others")
            .labelNames("model", "state")
            .register(registry);
    coldStartSeconds =
        Histogram.builder()
            .name("ibc_model_cold_start_seconds")
            .help("Time from activation (first held request) to routable")
            .classicUpperBounds(1, 2.5, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600)
            .labelNames("model")
            .register(registry);
    decisions =
        Counter.builder()
            .name("ibc_controller_decisions_total")
            .help("Decisions applied, by reason (the event reason)")
            .labelNames("reason")
            .register(registry);
    cycleSeconds =
        Histogram.builder()
            .name("ibc_controller_cycle_seconds")
            .help("Duration of one decision cycle (build input, decide, apply)")
            .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
            .register(registry);
    leader =
        Gauge.builder()
            .name("ibc_controller_leader")
            .help("1 while this replica is the leader (the only writer)")
            .register(registry);
    conflicts =
        Counter.builder()
            .name("ibc_controller_conflicts_total")
            .help("Writes that met a 409 Conflict and were retried on fresh state")
            .register(registry);
  }

  /** Sets the budget gauges; budgets missing from {@code reservedAndTotal} are removed. */
  public synchronized void budgets(Map<String, long[]> reservedAndTotal) {
    for (String gone : difference(knownBudgets, reservedAndTotal.keySet())) {
      budgetReservedBytes.remove(gone);
      budgetTotalBytes.remove(gone);
    }
    reservedAndTotal.forEach(
        (budget, v) -> {
          budgetReservedBytes.labelValues(budget).set(v[0]);
          budgetTotalBytes.labelValues(budget).set(v[1]);
        });
    knownBudgets.clear();
    knownBudgets.addAll(reservedAndTotal.keySet());
  }

  /** One model's gauges after a cycle. */
  public record ModelFigures(int desiredReplicas, int readyReplicas, String state) {
    public ModelFigures {
      Objects.requireNonNull(state, "state");
    }
  }

  /** Sets the model gauges; models missing from {@code figures} are removed. */
  public synchronized void models(Map<String, ModelFigures> figures) {
    for (String gone : difference(knownModels.keySet(), figures.keySet())) {
      modelDesiredReplicas.remove(gone);
      modelReadyReplicas.remove(gone);
      for (String s : stateNames) {
        modelState.remove(gone, s);
      }
    }
    figures.forEach(
        (model, f) -> {
          // Label lookups for thousands of models each cycle add up: set only what changed.
          if (f.equals(knownModels.get(model))) {
            return;
          }
          modelDesiredReplicas.labelValues(model).set(f.desiredReplicas());
          modelReadyReplicas.labelValues(model).set(f.readyReplicas());
          for (String s : stateNames) {
            modelState.labelValues(model, s).set(s.equals(f.state()) ? 1 : 0);
          }
        });
    knownModels.clear();
    knownModels.putAll(figures);
  }

  /** Sets the observed GPU memory gauges; models and budgets not observed now are removed. */
  public synchronized void observedGpuMemory(Map<String, Long> models, Map<String, Long> budgets) {
    for (String gone : difference(knownObservedModels, models.keySet())) {
      modelObservedBytes.remove(gone);
    }
    for (String gone : difference(knownObservedBudgets, budgets.keySet())) {
      budgetObservedBytes.remove(gone);
    }
    models.forEach((model, bytes) -> modelObservedBytes.labelValues(model).set(bytes));
    budgets.forEach((budget, bytes) -> budgetObservedBytes.labelValues(budget).set(bytes));
    knownObservedModels.clear();
    knownObservedModels.addAll(models.keySet());
    knownObservedBudgets.clear();
    knownObservedBudgets.addAll(budgets.keySet());
  }

  public void coldStart(String model, Duration activationToRoutable) {
    coldStartSeconds.labelValues(model).observe(activationToRoutable.toNanos() / 1e9);
  }

  public void decision(String eventReason) {
    decisions.labelValues(eventReason).inc();
  }

  public void cycle(Duration took) {
    cycleSeconds.observe(took.toNanos() / 1e9);
  }

  public void leader(boolean isLeader) {
    leader.set(isLeader ? 1 : 0);
  }

  public void conflict() {
    conflicts.inc();
  }

  private static Set<String> difference(Set<String> a, Set<String> b) {
    Set<String> d = new HashSet<>(a);
    d.removeAll(b);
    return d;
  }
}
