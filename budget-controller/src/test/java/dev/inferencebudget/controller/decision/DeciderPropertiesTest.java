package dev.inferencebudget.controller.decision;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.controller.decision.BudgetSpec.Preemption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Invariants of the decision core over random specs and random sequences of events, with a
 * simulated cluster in between: pods become ready a few steps after creation and are gone a few
 * steps after deletion (holding their GPU until then), the shell sometimes applies a decision one
 * step late, and load comes and goes in bursts.
 */
class DeciderPropertiesTest {

  private static final long GI = 1L << 30;
  private static final Instant START = Instant.parse("2026-11-28T08:00:00Z");
  private static final int MAX_MODELS = 5;

  /** Scaling variants: in-flight target and scale-down delay. */
  private static final ScalingSpec[] SCALINGS = {
    ScalingSpec.defaults().withTargets(1, 2).withScaleDownDelay(Duration.ZERO),
    ScalingSpec.defaults().withTargets(2, 4).withScaleDownDelay(Duration.ofSeconds(30)),
    ScalingSpec.defaults().withTargets(4, 8),
    ScalingSpec.defaults()
        .withTargets(2, 2)
        .withScaleDownDelay(Duration.ZERO)
        .withTargetTimeToFirstToken(Duration.ofMillis(400)),
  };

  record BudgetGen(int gi, int thresholdPercent, int protectedPriority, boolean preempt) {}

  record ModelGen(
      int budgetIndex,
      int perReplicaGi,
      int priority,
      int min,
      int extraMax,
      int idleSeconds,
      boolean adaptive,
      int scalingIndex) {}

  /** One step: time advances, then each model sees this demand (requests wanting service). */
  record Step(int advanceSeconds, List<Integer> demand, boolean shellLate, int podDelaySteps) {}

  record Scenario(List<BudgetGen> budgets, List<ModelGen> models, List<Step> steps) {}

  /**
   * A random scenario from a seed. Hand-rolled generators on a seeded {@link Random} rather than a
   * property-testing library: the one we used (jqwik) asks AI agents, which write much of this
   * code, not to use it. A failing case names its seed, which reproduces it exactly.
   */
  static Scenario scenario(long seed) {
    Random r = new Random(seed);
    List<BudgetGen> budgets = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      budgets.add(
          new BudgetGen(
              between(r, 8, 160), between(r, 30, 100), between(r, 0, 3), r.nextBoolean()));
    }
    List<ModelGen> models = new ArrayList<>();
    int modelCount = between(r, 1, MAX_MODELS);
    for (int i = 0; i < modelCount; i++) {
      models.add(
          new ModelGen(
              between(r, 0, 1),
              between(r, 1, 48),
              between(r, 0, 3),
              between(r, 0, 2),
              between(r, 0, 3),
              oneOf(r, 10, 60, 300, 900),
              r.nextBoolean(),
              between(r, 0, SCALINGS.length - 1)));
    }
    List<Step> steps = new ArrayList<>();
    int stepCount = between(r, 1, 80);
    for (int i = 0; i < stepCount; i++) {
      List<Integer> demand = new ArrayList<>();
      for (int m = 0; m < MAX_MODELS; m++) {
        demand.add(demand(r));
      }
      steps.add(
          new Step(
              oneOf(r, 1, 1, 2, 5, 30, 120, 700), demand, r.nextInt(4) == 0, between(r, 0, 3)));
    }
    return new Scenario(budgets, models, steps);
  }

  /** Mostly idle, sometimes a little load, now and then a burst. */
  private static int demand(Random r) {
    int roll = r.nextInt(10);
    if (roll < 6) {
      return 0;
    }
    return roll < 9 ? between(r, 1, 4) : between(r, 5, 30);
  }

  private static int between(Random r, int min, int max) {
    return min + r.nextInt(max - min + 1);
  }

  private static int oneOf(Random r, int... values) {
    return values[r.nextInt(values.length)];
  }

  static LongStream seeds(int count) {
    return LongStream.range(0, count).map(i -> 0x1BCL * 1_000_003L + i);
  }

  static LongStream manySeeds() {
    return seeds(300);
  }

  static LongStream someSeeds() {
    return seeds(100);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("manySeeds")
  void budgetNeverExceededMinMaxAndPriorityHold(long seed) {
    new World(scenario(seed)).run(true);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("someSeeds")
  void sameInputGivesSameOutput(long seed) {
    World a = new World(scenario(seed));
    World b = new World(scenario(seed));
    a.run(false);
    b.run(false);
    assertThat(a.decisions).isEqualTo(b.decisions);
  }

  /** A simulated cluster and shell around the decider. */
  static final class World {
    final Scenario scenario;
    final List<BudgetSpec> budgets = new ArrayList<>();
    final List<ModelSpec> models = new ArrayList<>();
    final Map<String, Integer> deployment = new HashMap<>();
    final Map<String, List<int[]>> pods =
        new HashMap<>(); // {state 0=starting 1=ready 2=term, steps}
    final Map<String, Instant> lastRequest = new HashMap<>();
    final Map<String, Instant> firstHeld = new HashMap<>();
    final List<Decision> decisions = new ArrayList<>();
    final Decider decider = new Decider();
    DeciderState state = DeciderState.empty();
    Decision pendingApply;

    World(Scenario s) {
      this.scenario = s;
      for (int i = 0; i < s.budgets().size(); i++) {
        BudgetGen b = s.budgets().get(i);
        budgets.add(
            new BudgetSpec(
                "t/b" + i,
                b.gi() * GI,
                b.thresholdPercent(),
                b.protectedPriority(),
                b.preempt() ? Preemption.IDLE_LOWER_PRIORITY : Preemption.NEVER));
      }
      for (int i = 0; i < s.models().size(); i++) {
        ModelGen m = s.models().get(i);
        Duration idle = Duration.ofSeconds(m.idleSeconds());
        KeepAlivePolicy keepAlive =
            m.adaptive()
                ? new KeepAlivePolicy.Adaptive(
                    idle,
                    Duration.ofHours(1),
                    Duration.ofSeconds(30),
                    3,
                    99,
                    5,
                    i % 2 == 0,
                    10,
                    0,
                    50)
                : new KeepAlivePolicy.Fixed(idle);
        String key = "t/m" + i;
        models.add(
            new ModelSpec(
                key,
                "t/b" + m.budgetIndex(),
                m.perReplicaGi() * GI,
                m.priority(),
                m.min(),
                Math.max(1, m.min() + m.extraMax()),
                keepAlive,
                SCALINGS[m.scalingIndex()],
                List.of()));
        deployment.put(key, 0);
        pods.put(key, new ArrayList<>());
      }
    }

    void run(boolean check) {
      Instant now = START;
      for (Step step : scenario.steps()) {
        now = now.plusSeconds(step.advanceSeconds());
        progressPods(step.advanceSeconds());
        FleetState in = new FleetState(budgets, models, observe(step, now));
        // A late shell applies the previous decision only now, after this observation was taken:
        // the decider sees a workload that lags its own last grant.
        if (pendingApply != null) {
          apply(pendingApply, step.podDelaySteps());
          pendingApply = null;
          if (check) {
            checkHeldMemory(now);
          }
        }
        Decision d = decider.decide(in, state, now);
        if (check) {
          assertThat(decider.decide(in, state, now)).isEqualTo(d);
          checkDecision(in, d);
        }
        decisions.add(d);
        state = d.nextState();
        // The shell applies the latest decision; sometimes one step late.
        if (step.shellLate()) {
          pendingApply = d;
        } else {
          pendingApply = null;
          apply(d, step.podDelaySteps());
        }
        if (check) {
          checkHeldMemory(now);
        }
      }
    }

    private List<ModelObservation> observe(Step step, Instant now) {
      List<ModelObservation> out = new ArrayList<>();
      for (int i = 0; i < models.size(); i++) {
        ModelSpec spec = models.get(i);
        String key = spec.key();
        int starting = count(key, 0);
        int ready = count(key, 1);
        int terminating = count(key, 2);
        int demand = step.demand().get(i);
        ModelObservation o =
            ModelObservation.of(
                key, new ReplicaCounts(deployment.get(key), starting, ready, terminating));
        if (demand > 0) {
          lastRequest.put(key, now);
        }
        if (lastRequest.containsKey(key)) {
          o = o.withLastRequestTime(lastRequest.get(key));
        }
        int capacity = (int) (ready * spec.scaling().targetInFlightPerReplica());
        int inFlight = Math.min(demand, capacity);
        int held = ready == 0 ? demand : 0;
        int queued = demand - inFlight - held;
        Optional<Duration> ttft =
            inFlight > 0
                ? Optional.of(Duration.ofMillis(100L * demand / Math.max(1, ready)))
                : Optional.empty();
        o = o.withLoad(new LoadSample(now, inFlight, queued, held, demand, ttft));
        if (held > 0) {
          firstHeld.putIfAbsent(key, now);
          o = o.withPendingActivation(new PendingActivation(held, firstHeld.get(key)));
        } else {
          firstHeld.remove(key);
        }
        out.add(o);
      }
      return out;
    }

    private int count(String key, int podState) {
      int n = 0;
      for (int[] p : pods.get(key)) {
        if (p[0] == podState) {
          n++;
        }
      }
      return n;
    }

    /** Pods advance by one step (however long it lasted): starting → ready, terminating → gone. */
    private void progressPods(int seconds) {
      for (List<int[]> list : pods.values()) {
        list.removeIf(p -> p[0] == 2 && p[1] <= 0);
        for (int[] p : list) {
          p[1]--;
          if (p[0] == 0 && p[1] <= 0) {
            p[0] = 1;
          }
        }
      }
    }

    /** What a ReplicaSet does: create up to desired, delete (not-ready first) down to desired. */
    private void apply(Decision d, int delaySteps) {
      for (ModelDecision md : d.models().values()) {
        String key = md.modelKey();
        deployment.put(key, md.desiredReplicas());
        List<int[]> list = pods.get(key);
        int live = count(key, 0) + count(key, 1);
        for (int i = live; i < md.desiredReplicas(); i++) {
          list.add(new int[] {0, delaySteps});
        }
        int excess = live - md.desiredReplicas();
        for (int pass = 0; pass <= 1 && excess > 0; pass++) {
          for (int[] p : list) {
            if (excess > 0 && p[0] == pass) {
              p[0] = 2;
              p[1] = delaySteps;
              excess--;
            }
          }
        }
      }
    }

    /** The invariant that matters most: GPU memory held by pods never exceeds a budget. */
    private void checkHeldMemory(Instant now) {
      for (BudgetSpec b : budgets) {
        long held = 0;
        for (ModelSpec m : models) {
          if (m.budgetKey().equals(b.key())) {
            held += pods.get(m.key()).size() * m.gpuMemoryPerReplicaBytes();
          }
        }
        assertThat(held)
            .as("memory held in %s at %s", b.key(), now)
            .isLessThanOrEqualTo(b.gpuMemoryBytes());
      }
    }

    private void checkDecision(FleetState in, Decision d) {
      Map<String, ModelObservation> obs = new HashMap<>();
      in.observations().forEach(o -> obs.put(o.modelKey(), o));
      for (BudgetDecision bd : d.budgets().values()) {
        assertThat(bd.reservedBytes()).isLessThanOrEqualTo(bd.gpuMemoryBytes());
      }
      for (ModelSpec m : models) {
        ModelDecision md = d.model(m.key());
        assertThat(md.desiredReplicas())
            .as("%s above max", m.key())
            .isLessThanOrEqualTo(m.maxReplicas());
        boolean budgetForced =
            md.refusal().isPresent()
                || md.reasons().stream().anyMatch(r -> r.kind() == Reason.Kind.WAITING_FOR_MEMORY);
        if (!budgetForced) {
          assertThat(md.desiredReplicas())
              .as("%s below min", m.key())
              .isGreaterThanOrEqualTo(m.minReplicas());
        }
      }
      // No model grows into new memory past a higher-priority model of its budget that waits.
      for (ModelSpec high : models) {
        ModelDecision h = d.model(high.key());
        boolean refused =
            h.refusal().isPresent()
                || h.reasons().stream().anyMatch(r -> r.kind() == Reason.Kind.WAITING_FOR_MEMORY);
        if (!refused) {
          continue;
        }
        for (ModelSpec low : models) {
          if (!low.budgetKey().equals(high.budgetKey()) || low.priority() >= high.priority()) {
            continue;
          }
          ReplicaCounts r = obs.get(low.key()).replicas();
          int covered =
              state
                  .model(low.key())
                  .map(ModelMemory::decidedReplicas)
                  .orElse(Math.max(r.desired(), r.live()));
          assertThat(d.model(low.key()).desiredReplicas())
              .as("%s grew past refused higher-priority %s", low.key(), high.key())
              .isLessThanOrEqualTo(covered);
        }
      }
    }
  }
}
