package dev.inferencebudget.harness.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.harness.fleet.Fleet;
import dev.inferencebudget.harness.fleet.KeepAlivePolicy;
import dev.inferencebudget.harness.fleet.SimulationSettings;
import dev.inferencebudget.harness.fleet.TraceRequest;
import dev.inferencebudget.harness.fleet.ZipfSplit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ReplayPlanTest {
  static ReplayScenario scenario(double speed, Duration start, Optional<Duration> duration) {
    SimulationSettings d = SimulationSettings.defaults();
    return new ReplayScenario(
        new Fleet("b", 400 * Fleet.GIB, true, Fleet.defaultModels(4)),
        new KeepAlivePolicy.Fixed(Duration.ofMinutes(5)),
        new SimulationSettings(
            d.start(),
            10.0,
            d.tickInterval(),
            d.terminationDelay(),
            d.holdTimeout(),
            d.sampleInterval()),
        speed,
        start,
        duration,
        100,
        20);
  }

  /** One request a second (unstretched), token counts rising with the index. */
  static List<TraceRequest> trace(int n) {
    List<TraceRequest> trace = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      trace.add(new TraceRequest(i * 1_000_000L, 10 + i, 1 + i));
    }
    return trace;
  }

  @Test
  void aWindowKeepsEachRequestOnTheModelTheWholeTraceSplitGaveIt() {
    ZipfSplit split = new ZipfSplit(4, 1.0, 7);
    int[] whole = split.assign(200);
    // stretch 10: request i arrives at 10 i s; the window [100 s, 400 s) holds requests 10..39
    ReplayPlan plan =
        ReplayPlan.of(
            trace(200),
            split,
            scenario(50, Duration.ofSeconds(100), Optional.of(Duration.ofSeconds(300))));

    assertThat(plan.requests()).hasSize(30);
    for (PlannedRequest request : plan.requests()) {
      int traceIndex = request.index() + 10;
      assertThat(request.model()).isEqualTo(whole[traceIndex]);
      assertThat(request.modelName()).isEqualTo("model-" + whole[traceIndex]);
      assertThat(request.traceOffsetMicros()).isEqualTo(request.index() * 10_000_000L);
      // speed 50: 10 s of trace time is 200 ms of wall time
      assertThat(request.wallOffsetNanos()).isEqualTo(request.index() * 200_000_000L);
    }
    assertThat(plan.windowTraceDuration()).isEqualTo(Duration.ofSeconds(300));
  }

  @Test
  void theFleetSimulatorsCopyOfTheWindowStartsAtZeroWithUncappedTokens() {
    ReplayPlan plan =
        ReplayPlan.of(
            trace(200),
            new ZipfSplit(4, 1.0, 7),
            scenario(50, Duration.ofSeconds(100), Optional.of(Duration.ofSeconds(1000))));

    assertThat(plan.windowTrace().get(0).offsetMicros()).isZero();
    assertThat(plan.windowTrace().get(5).offsetMicros()).isEqualTo(5_000_000L);
    // request 109 of the trace: 119 prompt and 110 completion tokens, capped at 100 and 20
    PlannedRequest last = plan.requests().get(plan.requests().size() - 1);
    assertThat(last.promptTokens()).isEqualTo(100);
    assertThat(last.completionTokens()).isEqualTo(20);
    assertThat(last.capped()).isTrue();
    assertThat(plan.windowTrace().get(plan.requests().size() - 1).contextTokens()).isEqualTo(119);
    assertThat(plan.requests().get(0).capped()).isFalse();
  }

  @Test
  void withoutADurationTheWindowRunsToTheLastRequest() {
    ReplayPlan plan =
        ReplayPlan.of(
            trace(50), new ZipfSplit(4, 1.0, 7), scenario(50, Duration.ZERO, Optional.empty()));

    assertThat(plan.requests()).hasSize(50);
    assertThat(plan.windowTraceDuration()).isEqualTo(Duration.ofSeconds(490));
  }
}
