package dev.inferencebudget.harness.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** End-to-end replays of the bundled trace through the real decision core. */
class FleetReplayTest {
  private static final List<TraceRequest> TRACE =
      TraceReader.readBundledCodeTrace().subList(0, 1_500);
  private static final List<KeepAlivePolicy> POLICIES =
      List.of(
          new KeepAlivePolicy.AlwaysOn(),
          new KeepAlivePolicy.Fixed(Duration.ofMinutes(1)),
          new KeepAlivePolicy.Fixed(Duration.ofMinutes(10)),
          new KeepAlivePolicy.Adaptive());

  private static FleetComparison comparison(long budgetGib, boolean preempt, long seed) {
    // default models 0..5: 24, 48, 80, 16, 24, 48 GiB = 240 GiB for one replica each
    Fleet fleet = new Fleet("tight", budgetGib * Fleet.GIB, preempt, Fleet.defaultModels(6));
    SimulationSettings settings =
        new SimulationSettings(
            SimulationSettings.defaults().start(),
            4.0,
            Duration.ofSeconds(2),
            Duration.ofSeconds(10),
            Duration.ofMinutes(2),
            Duration.ofSeconds(30));
    return new FleetComparison(
        fleet,
        settings,
        TRACE,
        new ZipfSplit(6, 1.0, seed),
        DecisionCoreAutoscaler.factory(Duration.ofMinutes(5)));
  }

  @Test
  void a_tight_budget_is_never_exceeded_and_every_request_is_served_refused_or_timed_out() {
    for (boolean preempt : new boolean[] {false, true}) {
      FleetComparison comparison = comparison(150, preempt, 3);
      List<PolicyResult> results = comparison.run(POLICIES, 2, resolved -> {});

      long budgetBytes = comparison.fleet().budgetGpuMemoryBytes();
      for (PolicyResult r : results) {
        assertThat(r.peakReservedBytes()).as(r.policy() + " peak").isLessThanOrEqualTo(budgetBytes);
        assertThat(r.overBudgetMicros()).as(r.policy() + " time over budget").isZero();
        assertThat(r.samples())
            .as(r.policy() + " time series")
            .allSatisfy(s -> assertThat(s.totalReservedBytes()).isLessThanOrEqualTo(budgetBytes));
        assertThat(r.served() + r.refusedByBudget() + r.holdTimeouts())
            .as(r.policy())
            .isEqualTo(TRACE.size());
        assertThat(r.requests()).isEqualTo(TRACE.size());
        assertThat(r.addedWaitMicros()).hasSize((int) r.served());
      }
      // 240 GiB of models in a 150 GiB budget: always-on cannot keep every model up, so some are
      // refused
      assertThat(results.get(0).refusedByBudget()).as("always-on refusals").isPositive();
    }
  }

  @Test
  void scale_to_zero_uses_less_gpu_memory_than_always_on_and_pays_in_cold_starts() {
    List<PolicyResult> results = comparison(400, true, 3).run(POLICIES, 1, resolved -> {});

    PolicyResult alwaysOn = results.get(0);
    PolicyResult fixed1m = results.get(1);
    assertThat(alwaysOn.coldStarts()).isEqualTo(6); // one per model, at the start
    assertThat(alwaysOn.refusedByBudget()).isZero();
    assertThat(fixed1m.gpuMemoryByteHours()).isLessThan(alwaysOn.gpuMemoryByteHours());
    assertThat(fixed1m.coldStarts()).isGreaterThan(alwaysOn.coldStarts());
    assertThat(fixed1m.waitedForColdStart()).isGreaterThan(alwaysOn.waitedForColdStart());
  }

  @Test
  void the_same_seed_writes_identical_files_whatever_the_thread_count(@TempDir Path dir)
      throws Exception {
    Path first = dir.resolve("first");
    Path second = dir.resolve("second");
    Path otherSeed = dir.resolve("other");
    FleetComparison comparison = comparison(200, true, 11);
    new FleetReport(comparison.fleet(), comparison.run(POLICIES, 1, resolved -> {})).write(first);
    new FleetReport(comparison.fleet(), comparison(200, true, 11).run(POLICIES, 2, resolved -> {}))
        .write(second);
    FleetComparison other = comparison(200, true, 12);
    new FleetReport(other.fleet(), other.run(POLICIES, 2, resolved -> {})).write(otherSeed);

    for (String file : List.of("summary.csv", "timeseries.csv")) {
      assertThat(Files.readString(second.resolve(file)))
          .as(file)
          .isEqualTo(Files.readString(first.resolve(file)));
    }
    assertThat(Files.readString(otherSeed.resolve("timeseries.csv")))
        .isNotEqualTo(Files.readString(first.resolve("timeseries.csv")));
    assertThat(first.resolve("fleet-adaptive.png")).isNotEmptyFile();
    assertThat(first.resolve("fleet-policies.png")).isNotEmptyFile();
  }
}
