package dev.inferencebudget.controller.decision;

import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The output of one {@link Decider#decide} call.
 *
 * @param models one decision per model of the input, by model key (key order)
 * @param budgets one outcome per budget of the input, by budget key (key order)
 * @param nextState hand this to the next {@code decide} call
 * @param nextDecisionAt the earliest time a timer (keep-alive, pre-warm, schedule, scale-down
 *     delay, panic end) may change the outcome without any new observation; the shell schedules a
 *     decision then, and also decides on every observation change
 */
public record Decision(
    Map<String, ModelDecision> models,
    Map<String, BudgetDecision> budgets,
    DeciderState nextState,
    Optional<Instant> nextDecisionAt) {

  public Decision {
    models = Collections.unmodifiableMap(new TreeMap<>(Objects.requireNonNull(models, "models")));
    budgets =
        Collections.unmodifiableMap(new TreeMap<>(Objects.requireNonNull(budgets, "budgets")));
    Objects.requireNonNull(nextState, "nextState");
    Objects.requireNonNull(nextDecisionAt, "nextDecisionAt");
  }

  /** The decision for {@code modelKey}; throws if the model was not in the input. */
  public ModelDecision model(String modelKey) {
    ModelDecision d = models.get(modelKey);
    if (d == null) {
      throw new IllegalArgumentException("no decision for model " + modelKey);
    }
    return d;
  }

  /** The outcome for {@code budgetKey}; throws if the budget was not in the input. */
  public BudgetDecision budget(String budgetKey) {
    BudgetDecision d = budgets.get(budgetKey);
    if (d == null) {
      throw new IllegalArgumentException("no decision for budget " + budgetKey);
    }
    return d;
  }
}
