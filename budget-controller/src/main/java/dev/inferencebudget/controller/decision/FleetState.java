package dev.inferencebudget.controller.decision;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Everything the decider is told about the world: specs and observations. A model without an
 * observation is taken to have no pods and no requests.
 *
 * @param budgets every budget the models refer to (a model whose budget is missing may not grow)
 * @param models every model to decide for
 * @param observations at most one per model key
 */
public record FleetState(
    List<BudgetSpec> budgets, List<ModelSpec> models, List<ModelObservation> observations) {

  public FleetState {
    budgets = List.copyOf(Objects.requireNonNull(budgets, "budgets"));
    models = List.copyOf(Objects.requireNonNull(models, "models"));
    observations = List.copyOf(Objects.requireNonNull(observations, "observations"));
    requireUnique("budget", budgets.stream().map(BudgetSpec::key).toList());
    requireUnique("model", models.stream().map(ModelSpec::key).toList());
    requireUnique("observation", observations.stream().map(ModelObservation::modelKey).toList());
  }

  /** Budgets by key, in key order. */
  public Map<String, BudgetSpec> budgetsByKey() {
    Map<String, BudgetSpec> byKey = new TreeMap<>();
    budgets.forEach(b -> byKey.put(b.key(), b));
    return byKey;
  }

  /** Models by key, in key order. */
  public Map<String, ModelSpec> modelsByKey() {
    Map<String, ModelSpec> byKey = new TreeMap<>();
    models.forEach(m -> byKey.put(m.key(), m));
    return byKey;
  }

  /** The observation of {@code modelKey}, or one with no pods and no requests. */
  public ModelObservation observationOf(String modelKey) {
    for (ModelObservation o : observations) {
      if (o.modelKey().equals(modelKey)) {
        return o;
      }
    }
    return ModelObservation.of(modelKey, ReplicaCounts.NONE);
  }

  private static void requireUnique(String what, List<String> keys) {
    Set<String> seen = new HashSet<>();
    for (String key : keys) {
      if (!seen.add(key)) {
        throw new IllegalArgumentException("duplicate " + what + " key " + key);
      }
    }
  }
}
