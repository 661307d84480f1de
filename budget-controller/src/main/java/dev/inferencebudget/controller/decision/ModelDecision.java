package dev.inferencebudget.controller.decision;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The decision for one model.
 *
 * @param modelKey the model
 * @param desiredReplicas what the shell sets on the workload
 * @param previousDesiredReplicas what the previous decision (or, without one, the workload) said
 * @param state for status and the proxies
 * @param previousState the previous decision's state, if any
 * @param reservedGpuMemoryBytes memory this model holds or is granted after this decision:
 *     (max(desired, live pods) + terminating pods) * per-replica memory
 * @param refusal set while the budget refuses replicas this model wants
 * @param reasons why the replicas or state changed, or why a scale-up was refused
 * @param keepAlive the keep-alive in force (fixed, or learned by the adaptive policy)
 * @param idleDeadline when the model will scale to its floor if no request arrives
 * @param coldStartStartedAt when the running cold start began (persist in status)
 * @param idleSince when the model last became idle (the later of its last request and the last
 *     sample that showed it busy); empty while a request is held, in flight or queued. Persist it:
 *     the idle timer runs from it
 */
public record ModelDecision(
    String modelKey,
    int desiredReplicas,
    int previousDesiredReplicas,
    ModelState state,
    Optional<ModelState> previousState,
    long reservedGpuMemoryBytes,
    Optional<BudgetRefusal> refusal,
    List<Reason> reasons,
    Duration keepAlive,
    Optional<Instant> idleDeadline,
    Optional<Instant> coldStartStartedAt,
    Optional<Instant> idleSince) {

  public ModelDecision {
    Objects.requireNonNull(modelKey, "modelKey");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(previousState, "previousState");
    Objects.requireNonNull(refusal, "refusal");
    reasons = List.copyOf(Objects.requireNonNull(reasons, "reasons"));
    Objects.requireNonNull(keepAlive, "keepAlive");
    Objects.requireNonNull(idleDeadline, "idleDeadline");
    Objects.requireNonNull(coldStartStartedAt, "coldStartStartedAt");
    Objects.requireNonNull(idleSince, "idleSince");
  }

  public boolean replicasChanged() {
    return desiredReplicas != previousDesiredReplicas;
  }

  public boolean stateChanged() {
    return previousState.map(s -> s != state).orElse(true);
  }
}
