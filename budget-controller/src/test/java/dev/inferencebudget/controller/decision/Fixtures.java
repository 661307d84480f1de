package dev.inferencebudget.controller.decision;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Builders for decision-core inputs in tests. */
final class Fixtures {
  private Fixtures() {}

  static final long GI = 1L << 30;
  static final Instant T0 = Instant.parse("2026-11-28T10:00:00Z");
  static final Duration IDLE = Duration.ofMinutes(10);

  static ModelSpec model(String key, String budget, long perReplicaGi, int priority) {
    return ModelSpec.of(key, budget, perReplicaGi * GI, priority, 0, 4, IDLE);
  }

  static ModelSpec model(
      String key, String budget, long perReplicaGi, int priority, int min, int max) {
    return ModelSpec.of(key, budget, perReplicaGi * GI, priority, min, max, IDLE);
  }

  static BudgetSpec budget(String key, long gi) {
    return BudgetSpec.of(key, gi * GI);
  }

  static BudgetSpec budget(
      String key, long gi, int thresholdPercent, int protectedPriority, BudgetSpec.Preemption p) {
    return new BudgetSpec(key, gi * GI, thresholdPercent, protectedPriority, p);
  }

  /** Observation of a model whose pods all match {@code desired} and are ready. */
  static ModelObservation running(String key, int replicas) {
    return ModelObservation.of(key, new ReplicaCounts(replicas, 0, replicas, 0));
  }

  static ModelObservation pods(String key, int desired, int starting, int ready, int terminating) {
    return ModelObservation.of(key, new ReplicaCounts(desired, starting, ready, terminating));
  }

  static ModelObservation activation(String key, Instant at, int held) {
    return ModelObservation.of(key, ReplicaCounts.NONE)
        .withLastRequestTime(at)
        .withPendingActivation(new PendingActivation(held, at));
  }

  /** A fleet assembled piece by piece. */
  static final class Fleet {
    final List<BudgetSpec> budgets = new ArrayList<>();
    final List<ModelSpec> models = new ArrayList<>();
    final List<ModelObservation> observations = new ArrayList<>();

    Fleet with(BudgetSpec b) {
      budgets.add(b);
      return this;
    }

    Fleet with(ModelSpec m) {
      models.add(m);
      return this;
    }

    Fleet with(ModelObservation o) {
      observations.removeIf(x -> x.modelKey().equals(o.modelKey()));
      observations.add(o);
      return this;
    }

    FleetState build() {
      return new FleetState(budgets, models, observations);
    }
  }

  static Fleet fleet() {
    return new Fleet();
  }

  static Decision decide(Fleet fleet, Instant now) {
    return new Decider().decide(fleet.build(), DeciderState.empty(), now);
  }

  static Decision decide(Fleet fleet, DeciderState state, Instant now) {
    return new Decider().decide(fleet.build(), state, now);
  }
}
