package dev.inferencebudget.controller.k8s;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds a status's condition list. A condition keeps its {@code lastTransitionTime} while its
 * status stays the same, so an unchanged fleet gives an equal status (and no write).
 */
final class Conditions {

  private final List<Condition> previous;
  private final long generation;
  private final Instant now;
  private final List<Condition> next = new ArrayList<>();

  Conditions(List<Condition> previous, long generation, Instant now) {
    this.previous = previous == null ? List.of() : previous;
    this.generation = generation;
    this.now = Objects.requireNonNull(now, "now");
  }

  Conditions set(String type, boolean status, String reason, String message) {
    String statusText = status ? "True" : "False";
    String transition = now.toString();
    for (Condition old : previous) {
      if (type.equals(old.getType()) && statusText.equals(old.getStatus())) {
        transition = old.getLastTransitionTime();
      }
    }
    next.add(
        new ConditionBuilder()
            .withType(type)
            .withStatus(statusText)
            .withReason(reason)
            .withMessage(message)
            .withObservedGeneration(generation)
            .withLastTransitionTime(transition)
            .build());
    return this;
  }

  List<Condition> build() {
    return List.copyOf(next);
  }
}
