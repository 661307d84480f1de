package dev.inferencebudget.controller.link;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What the reconciler does with an activation: a request arrived at an ext-proc replica for a model
 * without a routable replica.
 */
@FunctionalInterface
public interface ActivationHandler {

  /** Why a scale-up was refused: the budget, what the model needs and what is free. */
  record Refusal(String budgetKey, long neededBytes, long freeBytes, String message) {
    public Refusal {
      Objects.requireNonNull(budgetKey, "budgetKey");
      Objects.requireNonNull(message, "message");
    }
  }

  /** The answer to an activation. */
  record Outcome(Result result, Optional<Refusal> refusal) {
    public Outcome {
      Objects.requireNonNull(result, "result");
      Objects.requireNonNull(refusal, "refusal");
      if ((result == Result.REFUSED) != refusal.isPresent()) {
        throw new IllegalArgumentException("a refusal comes with REFUSED and only with it");
      }
    }

    public static Outcome accepted() {
      return new Outcome(Result.ACCEPTED, Optional.empty());
    }

    public static Outcome unknownModel() {
      return new Outcome(Result.UNKNOWN_MODEL, Optional.empty());
    }

    public static Outcome refused(Refusal refusal) {
      return new Outcome(Result.REFUSED, Optional.of(refusal));
    }
  }

  /** The kinds of answer. */
  enum Result {
    ACCEPTED,
    REFUSED,
    UNKNOWN_MODEL
  }

  /**
   * Records the activation and answers at once: the replica will start (or is starting), the budget
   * refuses it, or no such model. Must not block on the scale-up itself.
   */
  Outcome activate(String modelKey, String replica, Instant requestedAt);
}
