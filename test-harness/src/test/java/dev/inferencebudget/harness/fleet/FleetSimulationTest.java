package dev.inferencebudget.harness.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.inferencebudget.harness.fleet.FleetAutoscaler.ModelObservation;
import dev.inferencebudget.harness.fleet.FleetAutoscaler.ScalingDirective;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The simulator's own mechanics (queueing, cold starts, holds, accounting) with a hand-written
 * autoscaler, so that every figure can be computed by hand. The decision core's behaviour is
 * covered by {@code FleetReplayTest}.
 */
class FleetSimulationTest {
  private static final long GIB = Fleet.GIB;

  /**
   * One model: 1 GiB, 10 s load, 1,000 prompt tokens/s, 10 completion tokens/s, one request at a
   * time.
   */
  private static final ModelProfile SLOW =
      new ModelProfile("slow", GIB, 10, Duration.ofSeconds(10), 1_000, 10, 1, 2);

  private static SimulationSettings settings(Duration holdTimeout) {
    return new SimulationSettings(
        Instant.parse("2023-11-16T00:00:00Z"),
        1.0,
        Duration.ofSeconds(1),
        Duration.ofSeconds(5),
        holdTimeout,
        Duration.ofSeconds(5));
  }

  @Test
  void requests_wait_for_the_cold_start_then_queue_behind_each_other_fifo() {
    List<TraceRequest> trace =
        List.of(
            new TraceRequest(1_000_000, 1_000, 10), // 1 s + 1 s of service
            new TraceRequest(2_000_000, 0, 20), // 2 s of service
            new TraceRequest(20_000_000, 500, 5)); // 1 s of service, replica idle by then
    Fleet fleet = new Fleet("b", 4 * GIB, false, List.of(SLOW));
    RecordingAutoscaler autoscaler = new RecordingAutoscaler(1, false);

    PolicyResult result =
        new FleetSimulation(
                fleet, settings(Duration.ofMinutes(5)), trace, new int[3], autoscaler, "one")
            .run(resolved -> {});

    // replica started at the t=0 tick, ready at 10 s. A: 1 s -> 10 s (9 s wait), done 12 s. B: 2 s
    // -> 12 s
    // (10 s wait), done 14 s. C: 20 s -> 20 s (no wait), done 21 s; the run ends at the 21 s tick.
    assertThat(result.addedWaitMicros()).containsExactly(0L, 9_000_000L, 10_000_000L);
    assertThat(result.addedWaitMillis(0.50)).isEqualTo(9_000.0);
    assertThat(result.addedWaitMillis(0.99)).isEqualTo(10_000.0);
    assertThat(result.served()).isEqualTo(3);
    assertThat(result.coldStarts()).isEqualTo(1);
    assertThat(result.replicaStarts()).isEqualTo(1);
    assertThat(result.waitedForColdStart()).isEqualTo(2);
    assertThat(result.durationMicros()).isEqualTo(21_000_000L);
    assertThat(result.gpuMemoryByteHours() / GIB).isCloseTo(21.0 / 3600, within(1e-9));
    assertThat(result.peakReservedBytes()).isEqualTo(GIB);
  }

  @Test
  void the_controller_sees_held_requests_and_the_arrival_at_zero_triggers_an_immediate_decision() {
    List<TraceRequest> trace = List.of(new TraceRequest(1_500_000, 0, 1));
    Fleet fleet = new Fleet("b", 4 * GIB, false, List.of(SLOW));
    RecordingAutoscaler autoscaler = new RecordingAutoscaler(0, false);

    new FleetSimulation(
            fleet, settings(Duration.ofSeconds(3)), trace, new int[1], autoscaler, "zero")
        .run(resolved -> {});

    // ticks at 0 s and 1 s, then the activation at 1.5 s (between ticks)
    assertThat(autoscaler.times.get(2)).isEqualTo(Instant.parse("2023-11-16T00:00:01.500Z"));
    ModelObservation atActivation = autoscaler.observations.get(2).get(0);
    assertThat(atActivation.held()).isEqualTo(1);
    assertThat(atActivation.activationPending()).isTrue();
    assertThat(atActivation.arrivals()).isEqualTo(1);
    assertThat(atActivation.heldSince()).contains(Instant.parse("2023-11-16T00:00:01.500Z"));
  }

  @Test
  void held_requests_are_refused_when_the_budget_blocks_the_model_and_time_out_otherwise() {
    List<TraceRequest> trace = List.of(new TraceRequest(0, 0, 1), new TraceRequest(1_000, 0, 1));
    Fleet fleet = new Fleet("b", 4 * GIB, false, List.of(SLOW));

    PolicyResult refused =
        new FleetSimulation(
                fleet,
                settings(Duration.ofSeconds(3)),
                trace,
                new int[2],
                new RecordingAutoscaler(0, true),
                "r")
            .run(resolved -> {});
    PolicyResult timedOut =
        new FleetSimulation(
                fleet,
                settings(Duration.ofSeconds(3)),
                trace,
                new int[2],
                new RecordingAutoscaler(0, false),
                "t")
            .run(resolved -> {});

    assertThat(refused.refusedByBudget()).isEqualTo(2);
    assertThat(refused.served() + refused.refusedByBudget() + refused.holdTimeouts()).isEqualTo(2);
    assertThat(timedOut.holdTimeouts()).isEqualTo(2);
    assertThat(timedOut.served()).isZero();
    assertThat(timedOut.gpuMemoryByteHours()).isZero();
  }

  @Test
  void a_terminated_replica_drains_and_holds_its_memory_for_the_termination_delay() {
    // desired 1 until 3 s, then 0: the replica (ready at 10 s? no: started at 0, load 10 s) is
    // cancelled while
    // starting at 3 s and releases its memory at 3 s + 5 s.
    List<TraceRequest> trace = List.of(new TraceRequest(30_000_000, 0, 1));
    Fleet fleet = new Fleet("b", 4 * GIB, false, List.of(SLOW));
    FleetAutoscaler upThenDown =
        (models, now) ->
            List.of(
                new ScalingDirective(
                    now.isBefore(Instant.parse("2023-11-16T00:00:03Z")) || models.get(0).held() > 0
                        ? 1
                        : 0,
                    false,
                    "test"));

    PolicyResult result =
        new FleetSimulation(
                fleet, settings(Duration.ofMinutes(5)), trace, new int[1], upThenDown, "d")
            .run(resolved -> {});

    PolicyResult.Sample atFive = result.samples().get(1); // 5 s: terminating, still holding
    PolicyResult.Sample atTen = result.samples().get(2); // 10 s: gone
    assertThat(atFive.replicas()[0]).isZero();
    assertThat(atFive.reservedBytes()[0]).isEqualTo(GIB);
    assertThat(atTen.reservedBytes()[0]).isZero();
    assertThat(result.coldStarts()).isEqualTo(2); // at 0 s and again for the request at 30 s
    assertThat(result.served()).isEqualTo(1);
  }

  /** Asks for a fixed replica count and records what it was shown. */
  private static final class RecordingAutoscaler implements FleetAutoscaler {
    final int replicas;
    final boolean budgetBlocked;
    final List<Instant> times = new ArrayList<>();
    final List<List<ModelObservation>> observations = new ArrayList<>();

    RecordingAutoscaler(int replicas, boolean budgetBlocked) {
      this.replicas = replicas;
      this.budgetBlocked = budgetBlocked;
    }

    @Override
    public List<ScalingDirective> decide(List<ModelObservation> models, Instant now) {
      times.add(now);
      observations.add(models);
      return models.stream()
          .map(m -> new ScalingDirective(replicas, budgetBlocked, "test"))
          .toList();
    }
  }
}
