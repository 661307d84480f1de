package dev.inferencebudget.controller.decision;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The decision core's entry point: specs, observations, the previous state and {@code now} in;
 * desired replicas, states, reservations, reasons, the next state and the next timer out. Pure: the
 * same arguments always give an equal {@link Decision}, and nothing is read or written elsewhere.
 * Stateless and thread-safe; all memory is in {@link DeciderState}.
 *
 * <p>Three layers, in increasing authority: the {@link IdleLayer idle layer} (keep-alive, floor,
 * activation), the {@link LoadLayer load layer} (replicas from demand, KPA-like), and the {@link
 * BudgetLayer budget layer} (the final say; the budget is never exceeded at any instant).
 *
 * <p>Usage, as a shell or simulator runs it:
 *
 * <pre>{@code
 * Decider decider = new Decider();
 * DeciderState state = DeciderState.empty();          // or rebuilt after a restart
 *
 * // On every observation change, and at decision.nextDecisionAt():
 * FleetState in = new FleetState(
 *     List.of(new BudgetSpec("team-a/gpu", 160L << 30, 80, 100,
 *         BudgetSpec.Preemption.IDLE_LOWER_PRIORITY)),
 *     List.of(ModelSpec.of("team-a/llama", "team-a/gpu", 40L << 30, 100, 0, 4,
 *         Duration.ofMinutes(10))),
 *     List.of(ModelObservation.of("team-a/llama", new ReplicaCounts(0, 0, 0, 0))
 *         .withLastRequestTime(lastRequest)
 *         .withPendingActivation(new PendingActivation(3, firstHeldAt))
 *         .withLoad(LoadSample.of(reportedAt, 0, 0, 3))));
 * Decision decision = decider.decide(in, state, now);
 * state = decision.nextState();                         // carry it to the next call
 * ModelDecision llama = decision.model("team-a/llama");
 * // apply: scale the Deployment to llama.desiredReplicas(), write llama.state().statusName(),
 * // llama.reservedGpuMemoryBytes(), llama.refusal() as a condition, llama.reasons() as events;
 * // schedule the next call at decision.nextDecisionAt().
 * }</pre>
 */
public final class Decider {

  private static final Reason UNCHANGED = new Reason(Reason.Kind.SCALED_UP, "unchanged");

  public Decider() {}

  /** Decides for every model and budget of {@code in}. */
  public Decision decide(FleetState in, DeciderState previous, Instant now) {
    Objects.requireNonNull(in, "in");
    Objects.requireNonNull(previous, "previous");
    Objects.requireNonNull(now, "now");
    Map<String, BudgetSpec> budgets = in.budgetsByKey();
    Map<String, ModelSpec> models = in.modelsByKey();
    Map<String, ModelObservation> observations = new HashMap<>();
    in.observations().forEach(o -> observations.put(o.modelKey(), o));

    // Idle and load layers, per model.
    Map<String, Plan> plans = new TreeMap<>();
    for (ModelSpec spec : models.values()) {
      ModelObservation obs =
          observations.getOrDefault(
              spec.key(), ModelObservation.of(spec.key(), ReplicaCounts.NONE));
      plans.put(spec.key(), plan(spec, obs, previous.model(spec.key()), now));
    }

    // Budget layer, per budget (including budgets that models name but that do not exist).
    Map<String, List<BudgetLayer.Claim>> claimsByBudget = new TreeMap<>();
    for (Plan p : plans.values()) {
      claimsByBudget.computeIfAbsent(p.spec.budgetKey(), k -> new ArrayList<>()).add(p.claim);
    }
    for (String budgetKey : budgets.keySet()) {
      claimsByBudget.computeIfAbsent(budgetKey, k -> new ArrayList<>());
    }
    Map<String, BudgetDecision> budgetDecisions = new TreeMap<>();
    Map<String, Boolean> aboveThreshold = new TreeMap<>();
    for (Map.Entry<String, List<BudgetLayer.Claim>> e : claimsByBudget.entrySet()) {
      Optional<BudgetSpec> budget = Optional.ofNullable(budgets.get(e.getKey()));
      BudgetLayer.Totals totals = BudgetLayer.apply(budget, e.getKey(), e.getValue());
      if (budget.isPresent()) {
        BudgetDecision d = budgetDecision(budget.get(), e.getValue(), totals, previous);
        budgetDecisions.put(d.budgetKey(), d);
        aboveThreshold.put(d.budgetKey(), d.reservedBytes() > d.thresholdBytes());
      }
    }

    // Outcomes and the state to carry.
    Map<String, ModelDecision> modelDecisions = new TreeMap<>();
    Map<String, ModelMemory> memories = new TreeMap<>();
    Instant next = null;
    for (Plan p : plans.values()) {
      finish(p, now);
      modelDecisions.put(p.spec.key(), p.decision);
      memories.put(p.spec.key(), p.memory);
      for (Optional<Instant> wake : List.of(p.idle.wakeAt(), p.load.wakeAt())) {
        if (wake.isPresent() && wake.get().isAfter(now)) {
          next = next == null || wake.get().isBefore(next) ? wake.get() : next;
        }
      }
    }
    return new Decision(
        modelDecisions,
        budgetDecisions,
        new DeciderState(memories, aboveThreshold),
        Optional.ofNullable(next));
  }

  /** Working data for one model within one decision. */
  private static final class Plan {
    ModelSpec spec;
    ModelObservation obs;
    Optional<ModelMemory> previous;
    int previousDesired;
    IdleLayer.Outcome idle;
    LoadLayer.Outcome load;
    int wanted;
    Reason cause;
    BudgetLayer.Claim claim;
    ModelDecision decision;
    ModelMemory memory;
  }

  private static Plan plan(
      ModelSpec spec, ModelObservation obs, Optional<ModelMemory> previous, Instant now) {
    Plan p = new Plan();
    p.spec = spec;
    p.obs = obs;
    p.previous = previous;
    ReplicaCounts replicas = obs.replicas();
    p.previousDesired = previous.map(ModelMemory::decidedReplicas).orElse(replicas.desired());
    ModelMemory memory =
        previous.orElseGet(
            () ->
                ModelMemory.restored(
                    replicas.desired(),
                    ModelState.SCALED_TO_ZERO,
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty()));
    boolean running = p.previousDesired > 0;
    p.idle = IdleLayer.evaluate(spec, obs, memory, running, now);
    p.load =
        LoadLayer.recommend(
            spec.scaling(),
            memory.samples(),
            obs.load(),
            replicas.ready(),
            memory.panicSince(),
            memory.panicMaxReplicas(),
            memory.recommendations(),
            now);

    int floor = p.idle.floor();
    int max = spec.maxReplicas();
    int wanted;
    Reason cause;
    int prev = p.previousDesired;
    switch (p.idle.mode()) {
      case ACTIVE, KEPT -> {
        int active = Math.max(1, p.load.replicas());
        wanted = Math.max(floor, active);
        if (prev == 0 && obs.pendingActivation().isPresent()) {
          PendingActivation a = obs.pendingActivation().get();
          cause =
              new Reason(
                  Reason.Kind.ACTIVATED,
                  "activated from zero to "
                      + Math.min(wanted, max)
                      + ": "
                      + a.heldRequests()
                      + " requests held since "
                      + a.requestedAt());
        } else if (prev == 0 && p.idle.prewarm()) {
          cause =
              new Reason(
                  Reason.Kind.PREWARMED,
                  "pre-warmed at the learned point after going idle ("
                      + p.idle.keepAliveSource()
                      + ")");
        } else if (wanted == floor && floor > Math.max(1, p.load.replicas())) {
          cause = new Reason(Reason.Kind.FLOOR, p.idle.floorReason());
        } else {
          // A cause is only reported when the replicas change; skip building unused text.
          cause =
              Math.min(wanted, max) == prev
                  ? UNCHANGED
                  : loadReason(prev, Math.min(wanted, max), p.load.explanation().get());
        }
      }
      default -> {
        wanted = floor;
        if (wanted > prev) {
          cause = new Reason(Reason.Kind.FLOOR, p.idle.floorReason());
        } else if (p.idle.mode() == IdleLayer.Mode.UNLOADED_UNTIL_PREWARM) {
          cause =
              new Reason(
                  wanted == 0 ? Reason.Kind.SCALED_TO_ZERO : Reason.Kind.SCALED_DOWN,
                  "unloaded until the learned pre-warm point (" + p.idle.keepAliveSource() + ")");
        } else {
          String idleFor =
              p.idle
                  .idleSince()
                  .map(t -> "after " + Durations.format(Duration.between(t, now)) + " idle")
                  .orElse("without requests");
          cause =
              new Reason(
                  wanted == 0 ? Reason.Kind.SCALED_TO_ZERO : Reason.Kind.SCALED_DOWN,
                  (wanted == 0 ? "scaled to zero " : "scaled down to the floor " + wanted + " ")
                      + idleFor
                      + " ("
                      + p.idle.keepAliveSource()
                      + ")");
        }
      }
    }
    if (wanted > max) {
      wanted = max;
      if (prev > max || cause.kind() == Reason.Kind.FLOOR) {
        cause = new Reason(Reason.Kind.CAPPED, "capped at replicas.max " + max);
      }
    }
    p.wanted = wanted;
    p.cause = cause;
    boolean idleForPreemption =
        p.idle.mode() != IdleLayer.Mode.ACTIVE && obs.load().map(l -> !l.busy()).orElse(true);
    p.claim =
        new BudgetLayer.Claim(
            spec.key(),
            spec.priority(),
            spec.gpuMemoryPerReplicaBytes(),
            replicas.desired(),
            previous
                .map(ModelMemory::decidedReplicas)
                .orElse(Math.max(replicas.desired(), replicas.live())),
            replicas.live(),
            replicas.terminating(),
            wanted,
            Math.min(floor, max),
            idleForPreemption,
            p.idle.idleSince());
    return p;
  }

  private static Reason loadReason(int prev, int wanted, String explanation) {
    if (wanted > prev) {
      return new Reason(
          Reason.Kind.SCALED_UP, "scaled up " + prev + "→" + wanted + ": " + explanation);
    }
    return new Reason(
        Reason.Kind.SCALED_DOWN, "scaled down " + prev + "→" + wanted + ": " + explanation);
  }

  private static void finish(Plan p, Instant now) {
    BudgetLayer.Claim c = p.claim;
    ReplicaCounts replicas = p.obs.replicas();
    int granted = c.granted;
    int prev = p.previousDesired;
    List<Reason> reasons = new ArrayList<>();
    if (p.load.panicStarted()) {
      reasons.add(new Reason(Reason.Kind.PANIC_STARTED, "entered " + p.load.explanation().get()));
    }
    if (p.load.panicEnded()) {
      reasons.add(
          new Reason(Reason.Kind.PANIC_ENDED, "left panic mode: " + p.load.explanation().get()));
    }
    if (granted != prev) {
      if (granted == p.wanted) {
        reasons.add(p.cause);
      } else if (granted > prev) {
        reasons.add(
            new Reason(
                Reason.Kind.SCALED_UP,
                "scaled up "
                    + prev
                    + "→"
                    + granted
                    + " of "
                    + p.wanted
                    + " wanted: "
                    + p.cause.message()));
      }
    }
    reasons.addAll(c.reasons);
    Optional<BudgetRefusal> refusal = Optional.ofNullable(c.refusal);
    refusal.ifPresent(r -> reasons.add(new Reason(Reason.Kind.BUDGET_BLOCKED, r.message())));

    ModelState state;
    if (granted == 0) {
      if (refusal.isPresent()) {
        state = ModelState.BUDGET_BLOCKED;
      } else if (c.waitingFor != null && p.wanted > 0) {
        state = ModelState.COLD_STARTING;
      } else {
        state = replicas.live() == 0 ? ModelState.SCALED_TO_ZERO : ModelState.SCALING;
      }
    } else if (replicas.ready() == 0) {
      state = ModelState.COLD_STARTING;
    } else if (replicas.ready() == granted && replicas.starting() == 0) {
      state = ModelState.READY;
    } else {
      state = ModelState.SCALING;
    }

    Optional<Instant> coldStart = p.previous.flatMap(ModelMemory::coldStartStartedAt);
    if (state == ModelState.COLD_STARTING && coldStart.isEmpty()) {
      coldStart =
          Optional.of(p.obs.pendingActivation().map(PendingActivation::requestedAt).orElse(now));
    } else if (coldStart.isPresent() && replicas.ready() > 0) {
      reasons.add(
          new Reason(
              Reason.Kind.COLD_START_DONE,
              "ready after a cold start of "
                  + Durations.format(Duration.between(coldStart.get(), now))));
      coldStart = Optional.empty();
    } else if (state != ModelState.COLD_STARTING) {
      coldStart = Optional.empty();
    }

    Optional<ModelState> previousState = p.previous.map(ModelMemory::state);
    p.decision =
        new ModelDecision(
            p.spec.key(),
            granted,
            prev,
            state,
            previousState,
            c.reservedAfterBytes(),
            refusal,
            reasons,
            p.idle.keepAlive(),
            granted > 0 ? p.idle.idleDeadline() : Optional.empty(),
            coldStart,
            p.idle.mode() == IdleLayer.Mode.ACTIVE ? Optional.empty() : p.idle.idleSince());
    p.memory =
        new ModelMemory(
            granted,
            state,
            p.idle.lastRequestSeen(),
            p.idle.lastBusyAt(),
            p.idle.histogram(),
            p.load.samples(),
            p.load.panicSince(),
            p.load.panicMaxReplicas(),
            p.load.recommendations(),
            coldStart);
  }

  private static BudgetDecision budgetDecision(
      BudgetSpec b,
      List<BudgetLayer.Claim> claims,
      BudgetLayer.Totals totals,
      DeciderState previous) {
    long reserved = totals.reservedAfterBytes();
    long threshold = b.thresholdBytes();
    long smallest = Long.MAX_VALUE;
    Map<String, Long> byModel = new TreeMap<>();
    for (BudgetLayer.Claim c : claims) {
      smallest = Math.min(smallest, c.perReplicaBytes);
      byModel.put(c.key, c.reservedAfterBytes());
    }
    BudgetState state;
    if (!claims.isEmpty() && b.gpuMemoryBytes() - reserved < smallest) {
      state = BudgetState.FULL;
    } else if (reserved > threshold) {
      state = BudgetState.ABOVE_THRESHOLD;
    } else {
      state = BudgetState.AVAILABLE;
    }
    boolean above = reserved > threshold;
    boolean wasAbove = previous.budgetsAboveThreshold().getOrDefault(b.key(), false);
    ThresholdCrossing crossing =
        above == wasAbove
            ? ThresholdCrossing.NONE
            : above ? ThresholdCrossing.ROSE_ABOVE : ThresholdCrossing.FELL_BELOW;
    List<Reason> reasons = new ArrayList<>();
    String usage = "reserved " + Bytes.format(reserved) + " of " + Bytes.format(b.gpuMemoryBytes());
    if (crossing == ThresholdCrossing.ROSE_ABOVE) {
      reasons.add(
          new Reason(
              Reason.Kind.THRESHOLD_CROSSED,
              "budget "
                  + b.key()
                  + " rose above its protection threshold "
                  + b.protectionThresholdPercent()
                  + "%: "
                  + usage));
    } else if (crossing == ThresholdCrossing.FELL_BELOW) {
      reasons.add(
          new Reason(
              Reason.Kind.THRESHOLD_CLEARED,
              "budget "
                  + b.key()
                  + " fell below its protection threshold "
                  + b.protectionThresholdPercent()
                  + "%: "
                  + usage));
    }
    if (totals.committedBytes() > b.gpuMemoryBytes()) {
      reasons.add(
          new Reason(
              Reason.Kind.BUDGET_BLOCKED,
              "budget "
                  + b.key()
                  + " is over-committed: "
                  + Bytes.format(totals.committedBytes())
                  + " committed of "
                  + Bytes.format(b.gpuMemoryBytes())
                  + " (the budget shrank or replicas exist that it did not grant); no model may grow"));
    }
    return new BudgetDecision(
        b.key(),
        b.gpuMemoryBytes(),
        reserved,
        totals.heldBytes(),
        threshold,
        state,
        crossing,
        byModel,
        reasons);
  }
}
