package dev.inferencebudget.harness.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.controller.api.v1alpha1.IdleGapHistogram;
import dev.inferencebudget.harness.fleet.Fleet;
import dev.inferencebudget.harness.fleet.KeepAlivePolicy;
import dev.inferencebudget.harness.fleet.ZipfSplit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ReplayReportTest {
  private static final long MS = 1_000_000L;

  @Test
  void everyRequestIsServedRefusedOrFailedAndLatenciesAreInTraceTime() {
    // speed 50, 4 models; three requests
    ReplayScenario scenario =
        ReplayPlanTest.scenario(50, Duration.ZERO, Optional.of(Duration.ofSeconds(30)));
    ReplayPlan plan = ReplayPlan.of(ReplayPlanTest.trace(3), new ZipfSplit(4, 1.0, 1), scenario);
    List<RequestOutcome> outcomes = new ArrayList<>();
    outcomes.add(outcome(0, RequestOutcome.Arrival.WARM, 200, null, 2 * MS, 10 * MS));
    outcomes.add(outcome(1, RequestOutcome.Arrival.COLD, 200, null, 40 * MS, 50 * MS));
    outcomes.add(outcome(2, RequestOutcome.Arrival.COLD, 503, "hold_timeout", 0, 100 * MS));
    // 4 models of 24+48+80+16 = 168 GiB; 1 h of wall byte-hours is 50 h of trace time
    FleetMeter.Usage usage =
        new FleetMeter.Usage(
            24.0 * Fleet.GIB / 50,
            3_600_000 * MS / 50,
            new long[] {1, 1, 0, 0},
            new long[] {1, 0, 0, 0},
            72 * Fleet.GIB,
            0);

    ReplayReport report =
        new ReplayReport(scenario, plan, outcomes, Optional.of(usage), List.of(), 200 * MS);

    assertThat(report.planned()).isEqualTo(report.served() + report.refused() + report.failed());
    assertThat(report.served()).isEqualTo(2);
    assertThat(report.refused()).isEqualTo(1);
    assertThat(report.coldArrivals()).isEqualTo(2);
    assertThat(report.reasons()).containsEntry("503 hold_timeout", 1L).hasSize(1);
    // 2 ms and 40 ms of wall time at speed 50
    assertThat(report.timeToFirstTokenMillis(o -> true)).containsExactly(100.0, 2000.0);
    assertThat(report.gpuMemoryGibHours())
        .hasValueSatisfying(
            v -> assertThat(v).isCloseTo(24.0, org.assertj.core.data.Offset.offset(1e-9)));
    assertThat(report.alwaysOnGibHours())
        .hasValueSatisfying(
            v -> assertThat(v).isCloseTo(168.0, org.assertj.core.data.Offset.offset(1e-9)));
    assertThat(report.text()).contains("3 planned = 2 served + 1 refused + 0 failed");
    assertThat(report.json().path("requests").path("served").asLong()).isEqualTo(2);
  }

  @Test
  void theControllersLearnedKeepAliveIsReportedInTraceTime() {
    // speed 60, adaptive with fleet-sim's 10-minute fallback: buckets of 1 s of wall time
    ReplayScenario scenario =
        ReplayPlanTest.scenario(60, Duration.ZERO, Optional.of(Duration.ofSeconds(30)))
            .withPolicy(new KeepAlivePolicy.Adaptive());
    ReplayPlan plan = ReplayPlan.of(ReplayPlanTest.trace(1), new ZipfSplit(4, 1.0, 1), scenario);
    List<RequestOutcome> outcomes =
        List.of(outcome(0, RequestOutcome.Arrival.COLD, 200, null, 2 * MS, 10 * MS));
    Map<String, IdleGapHistogram> learned =
        Map.of(
            // twelve gaps of 2 to 3 wall seconds: 99th percentile bucket 2, (2 + 1) s + 10%
            "model-0", new IdleGapHistogram(1L, 240, Map.of("2", 12L), 0L),
            // three gaps are too few to be representative
            "model-1", new IdleGapHistogram(1L, 240, Map.of("5", 3L), 1L));

    ReplayReport report =
        new ReplayReport(scenario, plan, outcomes, Optional.empty(), List.of(), 10 * MS, learned);

    assertThat(report.learnedKeepAlive())
        .containsEntry("model-0", "learned 198 s (12 gaps in range, 0 out of range)")
        .containsEntry(
            "model-1", "fallback 600 s (not representative: 3 gaps in range, 1 out of range)");
    assertThat(report.text()).contains("model-0", "learned 198 s");
    assertThat(report.json().path("learnedKeepAlive").path("model-1").asText())
        .startsWith("fallback 600 s");
  }

  private static RequestOutcome outcome(
      int index, RequestOutcome.Arrival arrival, int status, String code, long ttft, long latency) {
    return new RequestOutcome(
        index,
        0,
        arrival,
        status,
        Optional.ofNullable(code),
        0,
        status == 200 ? Optional.of(ttft) : Optional.empty(),
        latency,
        status == 200 ? 2 : 0);
  }
}
