package dev.inferencebudget.controller.decision;

import static dev.inferencebudget.controller.decision.Fixtures.T0;
import static dev.inferencebudget.controller.decision.Fixtures.budget;
import static dev.inferencebudget.controller.decision.Fixtures.fleet;
import static dev.inferencebudget.controller.decision.Fixtures.model;
import static dev.inferencebudget.controller.decision.Fixtures.running;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The load layer's rules, each driven through {@link Decider} with samples in virtual time. */
class LoadRulesTest {

  /** Target 4 in flight and 8 waiting per replica; KPA windows; no scale-down delay. */
  private static final ScalingSpec SCALING =
      ScalingSpec.defaults().withTargets(4, 8).withScaleDownDelay(Duration.ZERO);

  private final Decider decider = new Decider();

  /** Feeds one sample per second for {@code seconds}, pods following the decision at once. */
  private static final class Run {
    final ModelSpec spec;
    DeciderState state = DeciderState.empty();
    Decision last;
    int ready;
    Instant now;

    Run(ModelSpec spec, int ready, Instant start) {
      this.spec = spec;
      this.ready = ready;
      this.now = start;
    }

    Decision step(int inFlight, int queued, Optional<Duration> ttft) {
      var f =
          fleet()
              .with(budget("a/gpu", 10_000))
              .with(spec)
              .with(
                  running(spec.key(), ready)
                      .withLastRequestTime(now)
                      .withLoad(new LoadSample(now, inFlight, queued, 0, 1, ttft)));
      last = new Decider().decide(f.build(), state, now);
      state = last.nextState();
      ready = last.model(spec.key()).desiredReplicas();
      now = now.plusSeconds(1);
      return last;
    }

    Decision steps(int seconds, int inFlight, int queued) {
      for (int i = 0; i < seconds; i++) {
        step(inFlight, queued, Optional.empty());
      }
      return last;
    }

    int desired() {
      return last.model(spec.key()).desiredReplicas();
    }
  }

  private static ModelSpec llama(ScalingSpec scaling) {
    return model("a/llama", "a/gpu", 1, 10, 0, 50).withScaling(scaling);
  }

  @Test
  @DisplayName("in-flight requests above the per-replica target scale up to demand / target")
  void inFlightScalesUp() {
    // 3 replicas for 2 ready is 150%: below the panic threshold, so the stable window decides.
    Run run = new Run(llama(SCALING), 2, T0);

    Decision first = run.step(12, 0, Optional.empty());

    assertThat(run.desired()).isEqualTo(3);
    assertThat(first.model("a/llama").reasons())
        .extracting(Reason::message)
        .containsExactly(
            "scaled up 2→3: 12.0 requests in flight or waiting (0.0 waiting) over 1m, targets 4 in"
                + " flight and 8 waiting per replica");
  }

  @Test
  @DisplayName("a queue deeper than the per-replica queue target adds replicas")
  void queueDepthScalesUp() {
    // Queue target 2: 4 in flight (one replica's worth) and 8 queued ask for 4 replicas.
    Run run = new Run(llama(SCALING.withTargets(4, 2)), 1, T0);

    run.steps(3, 4, 8);

    assertThat(run.desired()).isEqualTo(4);
  }

  @Test
  @DisplayName("without a burst the stable window averages: a single spike moves it a little")
  void stableWindowAverages() {
    // Threshold high enough that the spike does not panic.
    ScalingSpec calm =
        new ScalingSpec(
            4,
            8,
            Optional.empty(),
            Duration.ofSeconds(60),
            Duration.ofSeconds(6),
            100_000,
            Duration.ZERO,
            1000);
    Run run = new Run(llama(calm), 2, T0);
    run.steps(59, 8, 0);
    assertThat(run.desired()).isEqualTo(2);

    run.steps(1, 8 + 60, 0); // one sample of 68 among 60: mean 9 → 3 replicas

    assertThat(run.desired()).isEqualTo(3);
  }

  @Test
  @DisplayName("a burst enters panic mode, which never scales down until a stable window passes")
  void panicMode() {
    Run run = new Run(llama(SCALING), 1, T0);
    run.steps(60, 4, 0);
    assertThat(run.desired()).isEqualTo(1);

    // Burst: 40 in flight. The 6s panic window sees it within 6s; the 60s window would say 2.
    Decision burst = run.step(40, 0, Optional.empty());
    assertThat(burst.model("a/llama").reasons())
        .extracting(Reason::kind)
        .contains(Reason.Kind.PANIC_STARTED);
    run.steps(5, 40, 0);
    assertThat(run.desired()).isEqualTo(10);

    // Load drops back: in panic the recommendation does not decrease.
    run.steps(30, 4, 0);
    assertThat(run.desired()).isEqualTo(10);

    // A stable window after the last time the panic condition held, panic ends.
    run.steps(40, 4, 0);
    assertThat(run.desired()).isEqualTo(1);
  }

  @Test
  @DisplayName("the scale-down delay keeps the highest recommendation of the delay window")
  void scaleDownDelay() {
    ScalingSpec delayed =
        new ScalingSpec(
            4,
            8,
            Optional.empty(),
            Duration.ofSeconds(10),
            Duration.ofSeconds(2),
            100_000,
            Duration.ofSeconds(30),
            1000);
    Run run = new Run(llama(delayed), 4, T0);
    run.steps(10, 16, 0);
    assertThat(run.desired()).isEqualTo(4);

    // Load stops; the 10s window empties but the delay holds the last highs for 30s.
    run.steps(25, 0, 0);
    assertThat(run.desired()).isGreaterThan(1);
    assertThat(run.last.nextDecisionAt()).isPresent();

    run.steps(20, 0, 0);
    assertThat(run.desired()).isEqualTo(1); // kept by the idle layer, not the load
  }

  @Test
  @DisplayName("max scale-up rate limits one step to rate times the ready replicas")
  void maxScaleUpRate() {
    ScalingSpec slow =
        new ScalingSpec(
            1,
            8,
            Optional.empty(),
            Duration.ofSeconds(60),
            Duration.ofSeconds(6),
            200,
            Duration.ZERO,
            2.0);
    Run run = new Run(llama(slow), 2, T0);

    run.step(40, 0, Optional.empty());

    assertThat(run.desired()).isEqualTo(4);
  }

  @Test
  @DisplayName("time to first token above its target asks for replicas in proportion")
  void ttftTarget() {
    ScalingSpec withTtft = SCALING.withTargetTimeToFirstToken(Duration.ofMillis(500));
    Run run = new Run(llama(withTtft), 2, T0);

    // Concurrency alone asks for 1; TTFT at 1.5s against 0.5s asks for 2 * 3 = 6.
    run.step(4, 0, Optional.of(Duration.ofMillis(1500)));

    assertThat(run.desired()).isEqualTo(6);
  }

  @Test
  @DisplayName("time to first token within tolerance of its target changes nothing")
  void ttftWithinTolerance() {
    ScalingSpec withTtft = SCALING.withTargetTimeToFirstToken(Duration.ofMillis(500));
    Run run = new Run(llama(withTtft), 2, T0);

    run.step(8, 0, Optional.of(Duration.ofMillis(540)));

    assertThat(run.desired()).isEqualTo(2);
  }

  @Test
  @DisplayName("load above replicas.max is capped at max")
  void cappedAtMax() {
    Run run = new Run(model("a/llama", "a/gpu", 1, 10, 0, 3).withScaling(SCALING), 1, T0);

    run.steps(3, 100, 0);

    assertThat(run.desired()).isEqualTo(3);
  }

  @Test
  @DisplayName("a repeated observation is not counted twice")
  void repeatedObservationIgnored() {
    ModelSpec spec = llama(SCALING);
    var f =
        fleet()
            .with(budget("a/gpu", 10_000))
            .with(spec)
            .with(
                running("a/llama", 1)
                    .withLastRequestTime(T0)
                    .withLoad(LoadSample.of(T0, 12, 0, 0)));
    Decision first = decider.decide(f.build(), DeciderState.empty(), T0);
    Decision again = decider.decide(f.build(), first.nextState(), T0);

    assertThat(again.nextState().model("a/llama").orElseThrow().samples()).hasSize(1);
    assertThat(again.nextState()).isEqualTo(first.nextState());
  }
}
