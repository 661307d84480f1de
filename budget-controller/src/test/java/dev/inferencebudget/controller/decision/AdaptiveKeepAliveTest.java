package dev.inferencebudget.controller.decision;

import static dev.inferencebudget.controller.decision.Fixtures.T0;
import static dev.inferencebudget.controller.decision.Fixtures.budget;
import static dev.inferencebudget.controller.decision.Fixtures.fleet;
import static dev.inferencebudget.controller.decision.Fixtures.model;
import static dev.inferencebudget.controller.decision.Fixtures.running;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The adaptive keep-alive (Shahrad et al. 2020): learning, fallback, pre-warm. */
class AdaptiveKeepAliveTest {

  private static final Duration FALLBACK = Duration.ofMinutes(10);
  private static final KeepAlivePolicy.Adaptive ADAPTIVE =
      KeepAlivePolicy.Adaptive.defaults(FALLBACK);

  private final Decider decider = new Decider();

  private static Fixtures.Fleet fleetAt(ModelSpec spec, int replicas, Instant lastRequest) {
    return fleet()
        .with(budget("a/gpu", 100))
        .with(spec)
        .with(running(spec.key(), replicas).withLastRequestTime(lastRequest));
  }

  /** Decides at each of {@code count} requests spaced {@code gap} apart; returns the last time. */
  private Decision learn(ModelSpec spec, Duration gap, int count, DeciderState[] state) {
    Decision d = null;
    Instant t = T0;
    for (int i = 0; i < count; i++) {
      d = decider.decide(fleetAt(spec, 1, t).build(), state[0], t);
      state[0] = d.nextState();
      t = t.plus(gap);
    }
    return d;
  }

  @Test
  @DisplayName("the adaptive keep-alive falls back to the fixed timeout with too few samples")
  void fallbackWithFewSamples() {
    ModelSpec spec = model("a/llama", "a/gpu", 10, 1).withKeepAlive(ADAPTIVE);
    DeciderState[] state = {DeciderState.empty()};

    Decision d = learn(spec, Duration.ofMinutes(3), 5, state);

    assertThat(d.model("a/llama").keepAlive()).isEqualTo(FALLBACK);
  }

  @Test
  @DisplayName("requests every 3 minutes teach a keep-alive of the tail bucket plus 10%")
  void learnsTail() {
    ModelSpec spec = model("a/llama", "a/gpu", 10, 1).withKeepAlive(ADAPTIVE);
    DeciderState[] state = {DeciderState.empty()};

    Decision d = learn(spec, Duration.ofMinutes(3), 21, state);

    // 20 gaps of 3m fall in bucket [3m, 4m): keep-alive 4m * 1.1.
    Duration learned = Duration.ofSeconds(264);
    assertThat(d.model("a/llama").keepAlive()).isEqualTo(learned);
    Instant last = T0.plus(Duration.ofMinutes(60));
    Decision kept =
        decider.decide(
            fleetAt(spec, 1, last).build(), state[0], last.plus(learned).minusSeconds(1));
    Decision idle = decider.decide(fleetAt(spec, 1, last).build(), state[0], last.plus(learned));
    assertThat(kept.model("a/llama").desiredReplicas()).isEqualTo(1);
    assertThat(idle.model("a/llama").desiredReplicas()).isZero();
    assertThat(idle.model("a/llama").reasons())
        .extracting(Reason::message)
        .containsExactly(
            "scaled to zero after 4m24s idle (adaptive keep-alive 4m24s learned from 20 idle gaps)");
  }

  @Test
  @DisplayName("mostly out-of-range gaps fall back to the fixed timeout")
  void outOfBoundsFallsBack() {
    ModelSpec spec = model("a/llama", "a/gpu", 10, 1).withKeepAlive(ADAPTIVE);
    DeciderState[] state = {DeciderState.empty()};

    Decision d = learn(spec, Duration.ofHours(5), 30, state);

    assertThat(d.model("a/llama").keepAlive()).isEqualTo(FALLBACK);
    assertThat(d.nextState().model("a/llama").orElseThrow().histogram().orElseThrow().outOfBounds())
        .isEqualTo(29);
  }

  @Test
  @DisplayName("gaps spread evenly over the range are not representative")
  void flatHistogramFallsBack() {
    KeepAliveHistogram h = KeepAliveHistogram.empty(ADAPTIVE);
    for (int minute = 0; minute < 240; minute++) {
      h = h.record(Duration.ofMinutes(minute));
    }

    assertThat(h.window(ADAPTIVE)).isEmpty();
  }

  @Test
  @DisplayName("the histogram takes the 99th percentile, so one long gap in 200 is ignored")
  void tailPercentile() {
    KeepAliveHistogram h = KeepAliveHistogram.empty(ADAPTIVE);
    for (int i = 0; i < 199; i++) {
      h = h.record(Duration.ofSeconds(90));
    }
    h = h.record(Duration.ofMinutes(200));

    assertThat(h.window(ADAPTIVE).orElseThrow().keepAlive()).isEqualTo(Duration.ofSeconds(132));
    assertThat(h.window(ADAPTIVE).orElseThrow().prewarmAfter()).isZero();
  }

  @Test
  @DisplayName("with pre-warm the model unloads after going idle and loads again at the head")
  void prewarm() {
    ModelSpec spec = model("a/llama", "a/gpu", 10, 1).withKeepAlive(ADAPTIVE.withPrewarm(true));
    DeciderState[] state = {DeciderState.empty()};
    learn(spec, Duration.ofMinutes(30), 21, state);
    Instant last = T0.plus(Duration.ofMinutes(600));
    // Head: bucket [30m, 31m) lower edge * 0.9 = 27m; tail: 31m * 1.1 = 34m6s.
    Decision justAfter =
        decider.decide(fleetAt(spec, 1, last).build(), state[0], last.plusSeconds(60));
    assertThat(justAfter.model("a/llama").desiredReplicas()).isZero();
    assertThat(justAfter.nextDecisionAt()).contains(last.plus(Duration.ofMinutes(27)));

    Decision prewarmed =
        decider.decide(
            fleetAt(spec, 0, last).build(),
            justAfter.nextState(),
            last.plus(Duration.ofMinutes(27)));
    assertThat(prewarmed.model("a/llama").desiredReplicas()).isEqualTo(1);
    assertThat(prewarmed.model("a/llama").reasons())
        .extracting(Reason::kind)
        .containsExactly(Reason.Kind.PREWARMED);
    assertThat(prewarmed.nextDecisionAt()).contains(last.plus(Duration.ofSeconds(34 * 60 + 6)));

    Decision expired =
        decider.decide(
            fleetAt(spec, 1, last).build(),
            prewarmed.nextState(),
            last.plus(Duration.ofSeconds(34 * 60 + 6)));
    assertThat(expired.model("a/llama").desiredReplicas()).isZero();
  }

  @Test
  @DisplayName("a gap is measured from when the model was last busy, not from the last arrival")
  void gapFromLastBusy() {
    ModelSpec spec = model("a/llama", "a/gpu", 10, 1).withKeepAlive(ADAPTIVE);
    // A request at T0 that keeps the model busy for 10 minutes, then the next at T0+12m.
    var busy =
        fleetAt(spec, 1, T0)
            .with(
                running("a/llama", 1)
                    .withLastRequestTime(T0)
                    .withLoad(LoadSample.of(T0.plus(Duration.ofMinutes(10)), 1, 0, 0)));
    Decision d1 =
        decider.decide(busy.build(), DeciderState.empty(), T0.plus(Duration.ofMinutes(10)));
    Instant next = T0.plus(Duration.ofMinutes(12));
    Decision d2 = decider.decide(fleetAt(spec, 1, next).build(), d1.nextState(), next);

    long[] counts =
        d2.nextState().model("a/llama").orElseThrow().histogram().orElseThrow().counts();
    assertThat(counts[2]).isEqualTo(1); // a 2-minute gap, not 12
  }
}
