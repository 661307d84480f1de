package dev.inferencebudget.harness.fleet;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * What one policy's replay measured.
 *
 * @param gpuMemoryByteHours reserved GPU memory integrated over the run (byte-hours)
 * @param coldStarts replica starts of a model that had no replica starting or ready (scale from
 *     zero)
 * @param replicaStarts all replica starts
 * @param requests requests replayed
 * @param served requests that were served
 * @param refusedByBudget held requests answered with a budget refusal
 * @param holdTimeouts held requests answered 503 after the hold timeout
 * @param waitedForColdStart requests that arrived while their model had no ready replica
 * @param addedWaitMicros for each served request, arrival to start of service (cold start plus
 *     queueing), sorted
 * @param peakReservedBytes the most GPU memory reserved at any instant
 * @param overBudgetMicros virtual time spent with more reserved than the budget (must be 0)
 * @param durationMicros virtual time simulated
 * @param samples the time series
 */
public record PolicyResult(
    String policy,
    double gpuMemoryByteHours,
    long coldStarts,
    long replicaStarts,
    long requests,
    long served,
    long refusedByBudget,
    long holdTimeouts,
    long waitedForColdStart,
    long[] addedWaitMicros,
    long peakReservedBytes,
    long overBudgetMicros,
    long durationMicros,
    List<Sample> samples) {
  public PolicyResult {
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(addedWaitMicros, "addedWaitMicros");
    samples = List.copyOf(samples);
  }

  /**
   * Added wait of served requests at quantile {@code q} (nearest rank), in milliseconds; 0 when
   * none was served.
   */
  public double addedWaitMillis(double q) {
    if (addedWaitMicros.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(q * addedWaitMicros.length);
    return addedWaitMicros[Math.max(0, Math.min(addedWaitMicros.length - 1, rank - 1))] / 1_000.0;
  }

  public double gpuMemoryGibHours() {
    return gpuMemoryByteHours / Fleet.GIB;
  }

  /** Share of requests that waited for a cold start, 0..1. */
  public double coldStartWaitShare() {
    return requests == 0 ? 0 : (double) waitedForColdStart / requests;
  }

  /**
   * The fleet at one instant.
   *
   * @param atMicros virtual time since the trace's start
   * @param replicas per model: replicas starting or ready
   * @param readyReplicas per model: replicas ready
   * @param reservedBytes per model: GPU memory reserved (starting, ready and terminating replicas)
   */
  public record Sample(long atMicros, int[] replicas, int[] readyReplicas, long[] reservedBytes) {
    public long totalReservedBytes() {
      return Arrays.stream(reservedBytes).sum();
    }
  }
}
