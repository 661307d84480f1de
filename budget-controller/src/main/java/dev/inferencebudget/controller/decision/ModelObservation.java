package dev.inferencebudget.controller.decision;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What the shell observed of one model at decision time.
 *
 * @param modelKey the model
 * @param replicas its pods and its workload's replica count
 * @param lastRequestTime when the latest request for it arrived (persisted in status so it survives
 *     a controller restart)
 * @param pendingActivation requests held for it at the proxy while it has no routable replica
 * @param load the latest load sample, when one was reported
 */
public record ModelObservation(
    String modelKey,
    ReplicaCounts replicas,
    Optional<Instant> lastRequestTime,
    Optional<PendingActivation> pendingActivation,
    Optional<LoadSample> load) {

  public ModelObservation {
    Objects.requireNonNull(modelKey, "modelKey");
    Objects.requireNonNull(replicas, "replicas");
    Objects.requireNonNull(lastRequestTime, "lastRequestTime");
    Objects.requireNonNull(pendingActivation, "pendingActivation");
    Objects.requireNonNull(load, "load");
  }

  /** A model with these pods and nothing else known. */
  public static ModelObservation of(String modelKey, ReplicaCounts replicas) {
    return new ModelObservation(
        modelKey, replicas, Optional.empty(), Optional.empty(), Optional.empty());
  }

  public ModelObservation withLastRequestTime(Instant at) {
    return new ModelObservation(modelKey, replicas, Optional.of(at), pendingActivation, load);
  }

  public ModelObservation withPendingActivation(PendingActivation activation) {
    return new ModelObservation(modelKey, replicas, lastRequestTime, Optional.of(activation), load);
  }

  public ModelObservation withLoad(LoadSample sample) {
    return new ModelObservation(
        modelKey, replicas, lastRequestTime, pendingActivation, Optional.of(sample));
  }
}
