package dev.inferencebudget.extproc.api;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** What the server asks of the controller: start a cold model ({@code ibc.v1 Activate}). */
public interface ControllerLink {

  /**
   * Asks the controller to make {@code modelKey} routable. Must not block; the answer says whether
   * a replica will start, the budget refuses it, or the controller knows no such model. A failed
   * stage (controller unreachable) leaves held requests waiting for their hold timeout.
   */
  CompletionStage<Activation> activate(String modelKey);

  /** The controller's answer to an activation. */
  record Activation(Result result, Optional<ModelState.BudgetRefusal> refusal) {
    public Activation {
      Objects.requireNonNull(result, "result");
      Objects.requireNonNull(refusal, "refusal");
      if ((result == Result.REFUSED) != refusal.isPresent()) {
        throw new IllegalArgumentException("a refusal comes with REFUSED and only with it");
      }
    }

    public static Activation accepted() {
      return new Activation(Result.ACCEPTED, Optional.empty());
    }

    public static Activation unknownModel() {
      return new Activation(Result.UNKNOWN_MODEL, Optional.empty());
    }

    public static Activation refused(ModelState.BudgetRefusal refusal) {
      return new Activation(Result.REFUSED, Optional.of(refusal));
    }
  }

  /** Mirrors {@code ibc.v1.ActivationResponse.Result}. */
  enum Result {
    ACCEPTED,
    REFUSED,
    UNKNOWN_MODEL
  }
}
