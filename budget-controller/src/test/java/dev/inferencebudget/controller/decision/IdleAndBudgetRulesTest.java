package dev.inferencebudget.controller.decision;

import static dev.inferencebudget.controller.decision.Fixtures.GI;
import static dev.inferencebudget.controller.decision.Fixtures.IDLE;
import static dev.inferencebudget.controller.decision.Fixtures.T0;
import static dev.inferencebudget.controller.decision.Fixtures.activation;
import static dev.inferencebudget.controller.decision.Fixtures.budget;
import static dev.inferencebudget.controller.decision.Fixtures.decide;
import static dev.inferencebudget.controller.decision.Fixtures.fleet;
import static dev.inferencebudget.controller.decision.Fixtures.model;
import static dev.inferencebudget.controller.decision.Fixtures.pods;
import static dev.inferencebudget.controller.decision.Fixtures.running;
import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.controller.decision.BudgetSpec.Preemption;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** One test per rule of the idle and budget layers, named by the scenario. */
class IdleAndBudgetRulesTest {

  @Test
  @DisplayName("a request for a model at zero activates one replica and starts a cold start")
  void activationFromZero() {
    var f =
        fleet()
            .with(budget("a/gpu", 80))
            .with(model("a/llama", "a/gpu", 24, 10))
            .with(activation("a/llama", T0, 3));

    Decision d = decide(f, T0.plusSeconds(1));

    ModelDecision llama = d.model("a/llama");
    assertThat(llama.desiredReplicas()).isEqualTo(1);
    assertThat(llama.state()).isEqualTo(ModelState.COLD_STARTING);
    assertThat(llama.reservedGpuMemoryBytes()).isEqualTo(24 * GI);
    assertThat(llama.coldStartStartedAt()).contains(T0);
    assertThat(llama.reasons()).extracting(Reason::kind).containsExactly(Reason.Kind.ACTIVATED);
    assertThat(d.budget("a/gpu").reservedBytes()).isEqualTo(24 * GI);
  }

  @Test
  @DisplayName("an idle model scales to zero after its idle timeout, not before")
  void scaleToZeroAfterIdleTimeout() {
    var f =
        fleet()
            .with(budget("a/gpu", 80))
            .with(model("a/llama", "a/gpu", 24, 10))
            .with(running("a/llama", 1).withLastRequestTime(T0));

    Decision before = decide(f, T0.plus(IDLE).minusSeconds(1));
    Decision after = decide(f, T0.plus(IDLE));

    assertThat(before.model("a/llama").desiredReplicas()).isEqualTo(1);
    assertThat(before.model("a/llama").idleDeadline()).contains(T0.plus(IDLE));
    assertThat(before.nextDecisionAt()).contains(T0.plus(IDLE));
    assertThat(after.model("a/llama").desiredReplicas()).isZero();
    assertThat(after.model("a/llama").reasons())
        .extracting(Reason::message)
        .containsExactly("scaled to zero after 10m idle (fixed keep-alive 10m)");
    // Its pod still exists until it is gone: it keeps its reservation.
    assertThat(after.model("a/llama").reservedGpuMemoryBytes()).isEqualTo(24 * GI);
    assertThat(after.model("a/llama").state()).isEqualTo(ModelState.SCALING);
  }

  @Test
  @DisplayName("an idle model never goes below replicas.min")
  void idleKeepsMin() {
    var f =
        fleet()
            .with(budget("a/gpu", 80))
            .with(model("a/llama", "a/gpu", 24, 10, 1, 4))
            .with(running("a/llama", 2).withLastRequestTime(T0));

    Decision d = decide(f, T0.plus(Duration.ofHours(1)));

    assertThat(d.model("a/llama").desiredReplicas()).isEqualTo(1);
    assertThat(d.model("a/llama").reasons())
        .extracting(Reason::kind)
        .containsExactly(Reason.Kind.SCALED_DOWN);
  }

  @Test
  @DisplayName("an active schedule's minimum holds an idle model up, and ends with its window")
  void scheduleMinimum() {
    ZoneId berlin = ZoneId.of("Europe/Berlin");
    Schedule office =
        new Schedule(
            "office-hours",
            Set.of(DayOfWeek.SATURDAY),
            LocalTime.of(9, 0),
            LocalTime.of(18, 0),
            berlin,
            2);
    ModelSpec spec = model("a/llama", "a/gpu", 24, 10).withSchedules(List.of(office));
    var f =
        fleet()
            .with(budget("a/gpu", 80))
            .with(spec)
            .with(running("a/llama", 0).withLastRequestTime(T0.minus(Duration.ofDays(1))));

    // 2026-11-28 is a Saturday; 10:00Z is 11:00 in Berlin.
    Decision inside = decide(f, T0);
    Decision outside = decide(f, Instant.parse("2026-11-28T17:00:00Z"));

    assertThat(inside.model("a/llama").desiredReplicas()).isEqualTo(2);
    assertThat(inside.model("a/llama").reasons())
        .extracting(Reason::message)
        .containsExactly("schedule office-hours keeps at least 2");
    assertThat(inside.nextDecisionAt()).contains(Instant.parse("2026-11-28T17:00:00Z"));
    assertThat(outside.model("a/llama").desiredReplicas()).isZero();
  }

  @Test
  @DisplayName("a cold start over budget is blocked with a reason naming the budget and shortfall")
  void blockedOverBudget() {
    var f =
        fleet()
            .with(budget("a/gpu", 32))
            .with(model("a/embed", "a/gpu", 24, 50))
            .with(model("a/llama", "a/gpu", 24, 10))
            .with(running("a/embed", 1).withLastRequestTime(T0))
            .with(activation("a/llama", T0, 1));

    Decision d = decide(f, T0.plusSeconds(1));

    ModelDecision llama = d.model("a/llama");
    assertThat(llama.desiredReplicas()).isZero();
    assertThat(llama.state()).isEqualTo(ModelState.BUDGET_BLOCKED);
    assertThat(llama.refusal())
        .contains(
            new BudgetRefusal(
                "a/gpu", 24 * GI, 8 * GI, "blocked: budget a/gpu needs 24Gi, has 8Gi free"));
    assertThat(d.budget("a/gpu").state()).isEqualTo(BudgetState.FULL);
  }

  @Test
  @DisplayName("scale-up over budget preempts the idle lower-priority model")
  void preemptsIdleLowerPriority() {
    var f =
        fleet()
            .with(budget("a/gpu", 32, 100, 0, Preemption.IDLE_LOWER_PRIORITY))
            .with(model("a/embed", "a/gpu", 16, 1))
            .with(model("a/llama", "a/gpu", 24, 10))
            .with(running("a/embed", 1).withLastRequestTime(T0.minusSeconds(60)))
            .with(activation("a/llama", T0, 1));

    Decision d = decide(f, T0.plusSeconds(1));

    assertThat(d.model("a/embed").desiredReplicas()).isZero();
    assertThat(d.model("a/embed").reasons())
        .extracting(Reason::message)
        .containsExactly(
            "preempted a/embed to make room for a/llama in budget a/gpu: scaled to 0, releasing"
                + " 16Gi");
    // The embed pod still holds its memory: llama waits, it is not granted yet.
    ModelDecision llama = d.model("a/llama");
    assertThat(llama.desiredReplicas()).isZero();
    assertThat(llama.refusal()).isEmpty();
    assertThat(llama.state()).isEqualTo(ModelState.COLD_STARTING);
    assertThat(llama.reasons())
        .extracting(Reason::kind)
        .containsExactly(Reason.Kind.PREEMPTING, Reason.Kind.WAITING_FOR_MEMORY);
    assertThat(d.budget("a/gpu").reservedBytes()).isEqualTo(16 * GI);

    // The embed pod is terminating: still no room.
    var terminating = f.with(pods("a/embed", 0, 0, 0, 1).withLastRequestTime(T0.minusSeconds(60)));
    Decision d2 = new Decider().decide(terminating.build(), d.nextState(), T0.plusSeconds(5));
    assertThat(d2.model("a/llama").desiredReplicas()).isZero();
    assertThat(d2.model("a/embed").desiredReplicas()).isZero();

    // Gone: llama fits now.
    var gone = f.with(pods("a/embed", 0, 0, 0, 0).withLastRequestTime(T0.minusSeconds(60)));
    Decision d3 = new Decider().decide(gone.build(), d2.nextState(), T0.plusSeconds(30));
    assertThat(d3.model("a/llama").desiredReplicas()).isEqualTo(1);
    assertThat(d3.model("a/embed").desiredReplicas()).isZero();
  }

  @Test
  @DisplayName("without preemption an idle lower-priority model is left alone")
  void noPreemptionWithNever() {
    var f =
        fleet()
            .with(budget("a/gpu", 32))
            .with(model("a/embed", "a/gpu", 16, 1))
            .with(model("a/llama", "a/gpu", 24, 10))
            .with(running("a/embed", 1).withLastRequestTime(T0.minusSeconds(60)))
            .with(activation("a/llama", T0, 1));

    Decision d = decide(f, T0.plusSeconds(1));

    assertThat(d.model("a/embed").desiredReplicas()).isEqualTo(1);
    assertThat(d.model("a/llama").state()).isEqualTo(ModelState.BUDGET_BLOCKED);
  }

  @Test
  @DisplayName("a busy lower-priority model is not preempted")
  void busyModelNotPreempted() {
    var f =
        fleet()
            .with(budget("a/gpu", 32, 100, 0, Preemption.IDLE_LOWER_PRIORITY))
            .with(model("a/embed", "a/gpu", 16, 1))
            .with(model("a/llama", "a/gpu", 24, 10))
            .with(
                running("a/embed", 1).withLastRequestTime(T0).withLoad(LoadSample.of(T0, 2, 0, 0)))
            .with(activation("a/llama", T0, 1));

    Decision d = decide(f, T0.plusSeconds(1));

    assertThat(d.model("a/embed").desiredReplicas()).isEqualTo(1);
    assertThat(d.model("a/llama").state()).isEqualTo(ModelState.BUDGET_BLOCKED);
  }

  @Test
  @DisplayName("memory of a model scaling down is not granted to another in the same decision")
  void scaleDownFreesNothingUntilPodsAreGone() {
    var f =
        fleet()
            .with(budget("a/gpu", 48))
            .with(model("a/embed", "a/gpu", 24, 50))
            .with(model("a/llama", "a/gpu", 24, 10))
            // embed has been idle for an hour: it scales to zero now.
            .with(running("a/embed", 2).withLastRequestTime(T0.minus(Duration.ofHours(1))))
            .with(activation("a/llama", T0, 1));

    Decision d = decide(f, T0.plusSeconds(1));

    assertThat(d.model("a/embed").desiredReplicas()).isZero();
    assertThat(d.model("a/llama").desiredReplicas()).isZero();
    assertThat(d.model("a/llama").reasons())
        .extracting(Reason::kind)
        .containsExactly(Reason.Kind.WAITING_FOR_MEMORY);
    assertThat(d.budget("a/gpu").reservedBytes()).isLessThanOrEqualTo(48 * GI);
  }

  @Test
  @DisplayName("terminating pods count against the budget")
  void terminatingPodsCount() {
    var f =
        fleet()
            .with(budget("a/gpu", 48))
            .with(model("a/embed", "a/gpu", 24, 50))
            .with(model("a/llama", "a/gpu", 24, 10))
            .with(pods("a/embed", 0, 0, 0, 2))
            .with(activation("a/llama", T0, 1));

    Decision d = decide(f, T0.plusSeconds(1));

    assertThat(d.model("a/llama").desiredReplicas()).isZero();
    assertThat(d.model("a/embed").reservedGpuMemoryBytes()).isEqualTo(48 * GI);
  }

  @Test
  @DisplayName("a grant the shell has not applied yet is not granted twice")
  void unappliedGrantStaysReserved() {
    var f =
        fleet()
            .with(budget("a/gpu", 24))
            .with(model("a/x", "a/gpu", 24, 10))
            .with(model("a/y", "a/gpu", 24, 10))
            .with(activation("a/x", T0, 1));
    Decision first = decide(f, T0);
    assertThat(first.model("a/x").desiredReplicas()).isEqualTo(1);

    // The workload still shows 0 (not applied yet) when y asks.
    f.with(activation("a/y", T0.plusSeconds(1), 1));
    Decision second = new Decider().decide(f.build(), first.nextState(), T0.plusSeconds(1));

    assertThat(second.model("a/x").desiredReplicas()).isEqualTo(1);
    assertThat(second.model("a/y").desiredReplicas()).isZero();
    assertThat(second.model("a/y").state()).isEqualTo(ModelState.BUDGET_BLOCKED);
  }

  @Test
  @DisplayName("pods a late-applied scale-down is removing are not reused by the next scale-up")
  void lateScaleDownIsNotReused() {
    // Found by the property test: y was scaled 2→0 by the previous decision, which the shell
    // applied only after taking this observation (so it still shows 2 live pods, now terminating).
    ScalingSpec oneEach = ScalingSpec.defaults().withTargets(1, 1);
    var f =
        fleet()
            .with(budget("a/gpu", 8))
            .with(model("a/x", "a/gpu", 1, 0))
            .with(model("a/y", "a/gpu", 2, 0).withScaling(oneEach))
            .with(running("a/y", 2).withLastRequestTime(T0))
            .with(activation("a/x", T0.plusSeconds(30), 1));
    Decision scaleDown = decide(f, T0.plus(IDLE));
    assertThat(scaleDown.model("a/y").desiredReplicas()).isZero();
    assertThat(scaleDown.model("a/x").desiredReplicas()).isEqualTo(1);

    Instant later = T0.plus(IDLE).plusSeconds(1);
    f.with(running("a/y", 2).withLastRequestTime(later).withLoad(LoadSample.of(later, 2, 0, 0)));
    Decision next = new Decider().decide(f.build(), scaleDown.nextState(), later);

    // Held at worst: x 1Gi + y's 2 leaving pods 4Gi; 3Gi free: one new y replica, not two.
    assertThat(next.model("a/y").desiredReplicas()).isEqualTo(1);
    // Its own leaving pods will free the rest: it waits rather than being refused.
    assertThat(next.model("a/y").reasons())
        .extracting(Reason::message)
        .contains(
            "waiting for 2Gi being released in budget a/gpu: budget a/gpu needs 2Gi, has 1Gi free");
  }

  @Test
  @DisplayName("above the protection threshold only protected priorities grow")
  void protectionThreshold() {
    var f =
        fleet()
            .with(budget("a/gpu", 100, 50, 100, Preemption.NEVER))
            .with(model("a/big", "a/gpu", 40, 10))
            .with(model("a/low", "a/gpu", 20, 10))
            .with(model("a/vip", "a/gpu", 20, 100))
            .with(running("a/big", 1).withLastRequestTime(T0))
            .with(activation("a/low", T0, 1))
            .with(activation("a/vip", T0, 1));

    Decision d = decide(f, T0.plusSeconds(1));

    assertThat(d.model("a/vip").desiredReplicas()).isEqualTo(1);
    assertThat(d.model("a/low").desiredReplicas()).isZero();
    assertThat(d.model("a/low").refusal().orElseThrow().message())
        .isEqualTo(
            "blocked: budget a/gpu is at its protection threshold 50% (50Gi) and priority 10 is"
                + " below the protected priority 100: needs 20Gi, has 0 free below the threshold");
    assertThat(d.budget("a/gpu").state()).isEqualTo(BudgetState.ABOVE_THRESHOLD);
    assertThat(d.budget("a/gpu").crossing()).isEqualTo(ThresholdCrossing.ROSE_ABOVE);
  }

  @Test
  @DisplayName("equal priorities share the room one replica at a time")
  void equalPrioritiesShare() {
    ScalingSpec oneEach = ScalingSpec.defaults().withTargets(1, 1);
    var f =
        fleet()
            .with(budget("a/gpu", 40))
            .with(model("a/x", "a/gpu", 10, 5).withScaling(oneEach))
            .with(model("a/y", "a/gpu", 10, 5).withScaling(oneEach))
            .with(running("a/x", 1).withLastRequestTime(T0).withLoad(LoadSample.of(T0, 4, 0, 0)))
            .with(running("a/y", 1).withLastRequestTime(T0).withLoad(LoadSample.of(T0, 4, 0, 0)));

    Decision d = decide(f, T0);

    assertThat(d.model("a/x").desiredReplicas()).isEqualTo(2);
    assertThat(d.model("a/y").desiredReplicas()).isEqualTo(2);
    assertThat(d.model("a/x").refusal()).isPresent();
    assertThat(d.model("a/y").refusal()).isPresent();
  }

  @Test
  @DisplayName("a lower-priority model does not grow past a refused higher-priority model")
  void noGrowthPastRefusedHigherPriority() {
    var f =
        fleet()
            .with(budget("a/gpu", 30))
            .with(model("a/big", "a/gpu", 24, 100))
            .with(model("a/small", "a/gpu", 8, 1))
            .with(running("a/big", 1).withLastRequestTime(T0).withLoad(LoadSample.of(T0, 8, 0, 0)))
            .with(activation("a/small", T0, 1));

    Decision d = decide(f, T0);

    assertThat(d.model("a/big").refusal()).isPresent();
    assertThat(d.model("a/small").desiredReplicas()).isZero();
    assertThat(d.model("a/small").refusal().orElseThrow().message())
        .startsWith("blocked: budget a/gpu serves higher-priority a/big first");
  }

  @Test
  @DisplayName("a model whose budget does not exist may not grow")
  void missingBudget() {
    var f = fleet().with(model("a/llama", "a/nope", 24, 10)).with(activation("a/llama", T0, 1));

    Decision d = decide(f, T0);

    assertThat(d.model("a/llama").desiredReplicas()).isZero();
    assertThat(d.model("a/llama").refusal().orElseThrow().budgetKey()).isEqualTo("a/nope");
  }

  @Test
  @DisplayName("the same input gives an equal decision")
  void deterministic() {
    var f =
        fleet()
            .with(budget("a/gpu", 32, 100, 0, Preemption.IDLE_LOWER_PRIORITY))
            .with(model("a/embed", "a/gpu", 16, 1))
            .with(model("a/llama", "a/gpu", 24, 10))
            .with(running("a/embed", 1).withLastRequestTime(T0.minusSeconds(60)))
            .with(activation("a/llama", T0, 1));

    assertThat(decide(f, T0)).isEqualTo(decide(f, T0));
  }
}
