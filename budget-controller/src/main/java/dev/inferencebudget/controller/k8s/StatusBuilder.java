package dev.inferencebudget.controller.k8s;

import dev.inferencebudget.controller.api.Quantities;
import dev.inferencebudget.controller.api.v1alpha1.BudgetState;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModelStatus;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudget;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudgetStatus;
import dev.inferencebudget.controller.api.v1alpha1.ModelReservation;
import dev.inferencebudget.controller.decision.BudgetDecision;
import dev.inferencebudget.controller.decision.KeepAliveHistogram;
import dev.inferencebudget.controller.decision.ModelDecision;
import dev.inferencebudget.controller.decision.ModelState;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Builds the statuses the controller writes: values only, so an unchanged fleet builds an equal
 * status and nothing is written. The fields the decision core needs after a restart (last request
 * time, cold-start start, the replicas last set) are part of it.
 */
final class StatusBuilder {

  private StatusBuilder() {}

  static BudgetedModelStatus model(
      ModelView v,
      Optional<ModelDecision> decision,
      Optional<ModelView.Problem> problem,
      Instant lastScaleTime,
      Instant lastRequestTime,
      Optional<KeepAliveHistogram> histogram,
      Optional<ObservedGpuMemory> observed,
      Instant now) {
    BudgetedModel m = v.resource();
    BudgetedModelStatus old = m.getStatus();
    long generation = m.getMetadata().getGeneration() == null ? 0 : m.getMetadata().getGeneration();
    Conditions c = new Conditions(old == null ? null : old.conditions(), generation, now);
    ModelState state = decision.map(ModelDecision::state).orElse(ModelState.SCALED_TO_ZERO);
    int ready = v.replicas().ready();
    c.set(
        Reconciler.READY,
        ready > 0,
        state.statusName(),
        ready > 0
            ? ready
                + " of "
                + decision.map(ModelDecision::desiredReplicas).orElse(0)
                + " replicas ready"
            : "no ready replica");
    c.set(
        Reconciler.COLD_STARTING,
        state == ModelState.COLD_STARTING,
        state == ModelState.COLD_STARTING ? "ColdStarting" : state.statusName(),
        decision
            .flatMap(ModelDecision::coldStartStartedAt)
            .map(t -> "cold start since " + t)
            .orElse("no cold start running"));
    Optional<String> refusal = decision.flatMap(ModelDecision::refusal).map(r -> r.message());
    c.set(
        Reconciler.BUDGET_EXCEEDED,
        refusal.isPresent(),
        refusal.isPresent() ? "BudgetBlocked" : "WithinBudget",
        refusal.orElse("the budget grants every replica the model wants"));
    c.set(
        Reconciler.TARGET_FOUND,
        v.deployment().isPresent() && !problemIs(problem, Reconciler.TARGET_FOUND),
        problemIs(problem, Reconciler.TARGET_FOUND) ? "DeploymentNotFound" : "DeploymentFound",
        problemIs(problem, Reconciler.TARGET_FOUND)
            ? problem.get().message()
            : "target Deployment exists");
    c.set(
        Reconciler.SINGLE_WRITER,
        v.externalWriter().isEmpty(),
        v.externalWriter().isEmpty() ? "ControllerOnly" : "ExternalWriter",
        v.externalWriter()
            .map(w -> w + " also sets the replicas; the controller does not scale the target")
            .orElse("the controller is the only writer of the target's replicas"));
    c.set(
        Reconciler.MODEL_NAMES_UNIQUE,
        v.conflictingNames().isEmpty(),
        v.conflictingNames().isEmpty() ? "Unique" : "ModelNameConflict",
        v.conflictingNames().isEmpty()
            ? "no other BudgetedModel claims these model names"
            : "already claimed: " + String.join(", ", v.conflictingNames()));
    c.set(
        Reconciler.SPEC_VALID,
        !problemIs(problem, Reconciler.SPEC_VALID),
        problemIs(problem, Reconciler.SPEC_VALID) ? "InvalidSpec" : "Valid",
        problemIs(problem, Reconciler.SPEC_VALID) ? problem.get().message() : "spec is valid");
    observed.ifPresent(
        o ->
            c.set(
                Reconciler.MEMORY_WITHIN_RESERVATION,
                o.overReservation().isEmpty(),
                o.overReservation().isEmpty() ? "WithinReservation" : "OverReservation",
                o.overReservation().isEmpty()
                    ? "the ready replicas use " + Quantities.ofBytes(o.bytes()) + " together"
                    : String.join(", ", o.overReservation())));
    List<String> nodes = v.nodes().isEmpty() && old != null ? old.lastNodes() : v.nodes();
    Instant lastRequest =
        lastRequestTime != null ? lastRequestTime : old == null ? null : old.lastRequestTime();
    return new BudgetedModelStatus(
        generation,
        dev.inferencebudget.controller.api.v1alpha1.ModelState.valueOf(state.name()),
        v.replicas().live(),
        ready,
        decision.map(ModelDecision::desiredReplicas).orElse(null),
        Quantities.ofBytes(decision.map(ModelDecision::reservedGpuMemoryBytes).orElse(0L)),
        observed.map(o -> Quantities.ofBytes(o.bytes())).orElse(null),
        lastRequest,
        decision.flatMap(ModelDecision::coldStartStartedAt).orElse(null),
        decision.flatMap(ModelDecision::idleSince).orElse(null),
        decision.flatMap(ModelDecision::idleDeadline).orElse(null),
        histogram.map(EdgeConversion::idleGaps).orElse(old == null ? null : old.idleGaps()),
        lastScaleTime,
        nodes,
        c.build());
  }

  static InferenceBudgetStatus budget(
      InferenceBudget b,
      BudgetDecision d,
      List<ModelReservation> models,
      Long observedBytes,
      Instant now) {
    InferenceBudgetStatus old = b.getStatus();
    long generation = b.getMetadata().getGeneration() == null ? 0 : b.getMetadata().getGeneration();
    Conditions c = new Conditions(old == null ? null : old.conditions(), generation, now);
    BudgetState state =
        switch (d.state()) {
          case AVAILABLE -> BudgetState.AVAILABLE;
          case ABOVE_THRESHOLD -> BudgetState.PROTECTING;
          case FULL -> BudgetState.EXHAUSTED;
        };
    String usage =
        "reserved "
            + Quantities.ofBytes(d.reservedBytes())
            + " of "
            + Quantities.ofBytes(d.gpuMemoryBytes());
    c.set(
        Reconciler.BUDGET_EXCEEDED,
        d.state() == dev.inferencebudget.controller.decision.BudgetState.FULL,
        d.state().statusName(),
        usage);
    c.set(
        Reconciler.ABOVE_PROTECTION_THRESHOLD,
        d.reservedBytes() > d.thresholdBytes(),
        d.reservedBytes() > d.thresholdBytes() ? "AboveThreshold" : "BelowThreshold",
        usage + "; threshold " + Quantities.ofBytes(d.thresholdBytes()));
    Integer percent =
        d.gpuMemoryBytes() == 0
            ? null
            : (int) Math.min(100L * 1000, d.reservedBytes() * 100.0 / d.gpuMemoryBytes());
    return new InferenceBudgetStatus(
        generation,
        state,
        Quantities.ofBytes(d.reservedBytes()),
        observedBytes == null ? null : Quantities.ofBytes(observedBytes),
        percent,
        models,
        c.build());
  }

  private static boolean problemIs(Optional<ModelView.Problem> problem, String type) {
    return problem.isPresent() && problem.get().conditionType().equals(type);
  }
}
