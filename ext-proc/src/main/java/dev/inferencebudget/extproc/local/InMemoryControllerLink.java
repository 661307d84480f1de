package dev.inferencebudget.extproc.local;

import dev.inferencebudget.extproc.api.ControllerLink;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A controller link answered in memory: records every activation and answers with a configurable
 * function (accept everything by default).
 */
public final class InMemoryControllerLink implements ControllerLink {

  private final List<String> activations = new CopyOnWriteArrayList<>();
  private volatile Function<String, CompletionStage<Activation>> answer =
      key -> CompletableFuture.completedFuture(Activation.accepted());

  @Override
  public CompletionStage<Activation> activate(String modelKey) {
    activations.add(modelKey);
    return answer.apply(modelKey);
  }

  /** How later activations are answered. */
  public void answerWith(Function<String, CompletionStage<Activation>> answer) {
    this.answer = Objects.requireNonNull(answer, "answer");
  }

  /** Model keys activated so far, in order. */
  public List<String> activations() {
    return List.copyOf(activations);
  }
}
