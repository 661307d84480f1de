package dev.inferencebudget.controller.decision;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Everything the decider remembers between decisions, carried explicitly: the previous decision
 * returns it, the next one takes it. Knative keeps the same kind of state (panic time, window
 * buckets) in mutable fields of its decider; here it is a value, so a decision is a pure function
 * and can be replayed.
 *
 * <p>After a controller restart, {@link #empty()} is safe: the reservation falls back to the
 * workloads' replica counts, windows refill within the stable window. What is worth persisting in
 * status is listed in {@link ModelMemory#restored}.
 *
 * @param models by model key
 * @param budgetsAboveThreshold by budget key: whether the previous decision left it above its
 *     protection threshold
 */
public record DeciderState(
    Map<String, ModelMemory> models, Map<String, Boolean> budgetsAboveThreshold) {

  public DeciderState {
    models = Collections.unmodifiableMap(new TreeMap<>(Objects.requireNonNull(models, "models")));
    budgetsAboveThreshold =
        Collections.unmodifiableMap(
            new TreeMap<>(Objects.requireNonNull(budgetsAboveThreshold, "budgetsAboveThreshold")));
  }

  private static final DeciderState EMPTY = new DeciderState(Map.of(), Map.of());

  /** The state before the first decision. */
  public static DeciderState empty() {
    return EMPTY;
  }

  public Optional<ModelMemory> model(String modelKey) {
    return Optional.ofNullable(models.get(modelKey));
  }
}
