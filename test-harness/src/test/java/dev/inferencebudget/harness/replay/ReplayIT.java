package dev.inferencebudget.harness.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.inferencebudget.controller.api.v1alpha1.AdaptiveKeepAlive;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.IdleGapHistogram;
import dev.inferencebudget.harness.fleet.Fleet;
import dev.inferencebudget.harness.fleet.KeepAlivePolicy;
import dev.inferencebudget.harness.fleet.SimulationSettings;
import dev.inferencebudget.harness.fleet.TraceReader;
import dev.inferencebudget.harness.fleet.ZipfSplit;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A few minutes of the bundled trace (stretched 4 times, not 24, so that models also see warm
 * requests) replayed at speed 60 against an in-process sandbox (the real controller, ext-proc and
 * data plane stand-in, simulated vLLM replicas), with every model starting at zero: the report must
 * account for every request, and what it says must agree with itself and with the cluster.
 *
 * <p>The replayed policy is the adaptive keep-alive with a 2-minute fallback: one sandbox start
 * checks both the replay's accounting and that the controller runs the histogram scaled to wall
 * time. Until a model has learned ten idle gaps its fallback decides (fixed 2 minutes); whether a
 * busy model learns that many in two trace minutes depends on timing, and nothing below does.
 */
class ReplayIT {
  @Test
  void anAdaptiveReplayFromZeroAccountsForEveryRequestAndRunsTheScaledHistogram() throws Exception {
    SimulationSettings d = SimulationSettings.defaults();
    ReplayScenario scenario =
        new ReplayScenario(
            // room for every model at its max replicas (4 × 168 GiB): the budget never refuses
            new Fleet("replay-budget", 700 * Fleet.GIB, true, Fleet.defaultModels(4)),
            new KeepAlivePolicy.Adaptive(),
            // a long hold timeout: a slow build machine must not turn a cold start into a 503
            new SimulationSettings(
                d.start(),
                4,
                d.tickInterval(),
                d.terminationDelay(),
                Duration.ofMinutes(30),
                d.sampleInterval()),
            60,
            // the start of the trace's first burst, after a quiet two minutes: 201 requests
            Duration.ofMinutes(12),
            Optional.of(Duration.ofMinutes(2)),
            2048,
            256,
            Duration.ofMinutes(2));
    ReplayPlan plan =
        ReplayPlan.of(TraceReader.readBundledCodeTrace(), new ZipfSplit(4, 1.0, 1), scenario);
    assertThat(plan.requests()).hasSize(201);

    ReplayReport report;
    long startNanos = System.nanoTime();
    try (SandboxTarget target = SandboxTarget.start(scenario, step -> {})) {
      System.out.printf("sandbox started in %.1f s%n", (System.nanoTime() - startNanos) / 1e9);
      report =
          new Replay(scenario, plan, "replay", 256, System::nanoTime)
              .run(target, true, generator -> {});

      // The controller took the scaled policy (no InvalidSpec) and learns in its buckets: one
      // second of wall time (a trace minute at speed 60), 240 of them (four trace hours).
      KubernetesClient client = target.kubernetes().orElseThrow();
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(
                          client
                              .resources(BudgetedModel.class)
                              .inNamespace("replay")
                              .list()
                              .getItems())
                      .hasSize(4)
                      .allSatisfy(
                          m -> {
                            assertThat(m.getSpec().scaleToZero().adaptive())
                                .isEqualTo(new AdaptiveKeepAlive("1000ms", "240000ms"));
                            assertThat(m.getSpec().scaleToZero().idleTimeout()).isEqualTo("2000ms");
                            assertThat(m.getStatus()).isNotNull();
                            assertThat(m.getStatus().conditions())
                                .noneSatisfy(
                                    c -> {
                                      assertThat(c.getType()).isEqualTo("SpecValid");
                                      assertThat(c.getStatus()).isEqualTo("False");
                                    });
                            IdleGapHistogram gaps = m.getStatus().idleGaps();
                            assertThat(gaps).isNotNull();
                            assertThat(gaps.bucketWidthSeconds()).isEqualTo(1);
                            assertThat(gaps.buckets()).isEqualTo(240);
                          }));
    }

    System.out.print(report.text());
    // every planned request has exactly one outcome, and each outcome is one of three kinds
    assertThat(report.outcomes()).hasSize(plan.requests().size());
    Set<Integer> indices = new HashSet<>();
    report.outcomes().forEach(o -> indices.add(o.index()));
    assertThat(indices).hasSize(plan.requests().size());
    assertThat(report.served() + report.refused() + report.failed()).isEqualTo(report.planned());
    // held during cold starts, never refused by the budget (it fits every replica), never a 5xx;
    // a CPU-starved machine may make ext-proc shed load with 429 queue_full, which is honest
    assertThat(report.outcomes()).allSatisfy(o -> assertThat(o.status()).isIn(200, 429));
    assertThat(report.served()).isPositive();
    assertThat(report.failed()).isZero();

    FleetMeter.Usage usage = report.usage().orElseThrow();
    List<RequestOutcome> outcomes = report.outcomes();
    for (int model = 0; model < 4; model++) {
      int m = model;
      Optional<RequestOutcome> first = outcomes.stream().filter(o -> o.model() == m).findFirst();
      if (first.isPresent()) {
        // every model starts at zero: its first request arrives cold and starts a replica
        assertThat(first.get().arrival()).isEqualTo(RequestOutcome.Arrival.COLD);
        assertThat(usage.coldStarts()[m]).isGreaterThanOrEqualTo(1);
      } else {
        assertThat(usage.replicaStarts()[m]).isZero();
      }
    }
    assertThat(report.coldArrivals()).isGreaterThanOrEqualTo(usage.totalColdStarts() > 0 ? 1 : 0);
    assertThat(usage.peakReservedBytes()).isLessThanOrEqualTo(700 * Fleet.GIB);
    double measuredTraceHours = usage.measuredNanos() * scenario.speed() / 3.6e12;
    assertThat(report.gpuMemoryGibHours().orElseThrow())
        .isPositive()
        .isLessThanOrEqualTo(usage.peakReservedBytes() / (double) Fleet.GIB * measuredTraceHours);
    // a cold arrival waits for a load time that a warm one does not
    assertThat(
            ReplayReport.quantile(
                report.timeToFirstTokenMillis(o -> o.arrival() == RequestOutcome.Arrival.COLD),
                0.5))
        .isGreaterThan(
            ReplayReport.quantile(
                report.timeToFirstTokenMillis(o -> o.arrival() == RequestOutcome.Arrival.WARM),
                0.5));
    // the fleet simulator ran the same window with the unscaled policy: same requests, resolved
    assertThat(report.simulated()).hasSize(2);
    assertThat(report.simulated().get(0).policy()).isEqualTo("adaptive");
    assertThat(report.simulated().get(0).requests()).isEqualTo(report.planned());
    assertThat(report.text())
        .contains(report.planned() + " planned = ")
        .contains("fleet-sim adaptive", "replay adaptive");
  }
}
