package dev.inferencebudget.controller.decision;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the decider carries for one model from one decision to the next.
 *
 * @param decidedReplicas the previous decision's desired replicas; counted as reserved until the
 *     workload shows them, so a grant the shell has not applied yet is never granted twice
 * @param state the previous decision's state
 * @param lastRequestSeen the latest request time seen, to measure idle gaps
 * @param lastBusyAt the latest time a load sample showed requests in flight, queued or held
 * @param histogram idle gaps for the adaptive keep-alive (empty for a fixed policy)
 * @param samples load samples of the stable window, oldest first
 * @param panicSince when the panic condition last held; empty when not in panic mode
 * @param panicMaxReplicas the most replicas recommended during this panic
 * @param recommendations load recommendations within the scale-down delay, oldest first
 * @param coldStartStartedAt when the running cold start began
 */
public record ModelMemory(
    int decidedReplicas,
    ModelState state,
    Optional<Instant> lastRequestSeen,
    Optional<Instant> lastBusyAt,
    Optional<KeepAliveHistogram> histogram,
    List<LoadSample> samples,
    Optional<Instant> panicSince,
    int panicMaxReplicas,
    List<Recommendation> recommendations,
    Optional<Instant> coldStartStartedAt) {

  public ModelMemory {
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(lastRequestSeen, "lastRequestSeen");
    Objects.requireNonNull(lastBusyAt, "lastBusyAt");
    Objects.requireNonNull(histogram, "histogram");
    samples = List.copyOf(Objects.requireNonNull(samples, "samples"));
    Objects.requireNonNull(panicSince, "panicSince");
    recommendations = List.copyOf(Objects.requireNonNull(recommendations, "recommendations"));
    Objects.requireNonNull(coldStartStartedAt, "coldStartStartedAt");
    if (decidedReplicas < 0) {
      throw new IllegalArgumentException("decidedReplicas = " + decidedReplicas + ", must be >= 0");
    }
  }

  /**
   * Memory rebuilt after a controller restart from what the status kept: the learned histogram and
   * the running cold start. Windows, panic mode and the scale-down history start afresh.
   */
  public static ModelMemory restored(
      int desiredReplicas,
      ModelState state,
      Optional<Instant> lastRequestTime,
      Optional<KeepAliveHistogram> histogram,
      Optional<Instant> coldStartStartedAt) {
    return restored(
        desiredReplicas, state, lastRequestTime, Optional.empty(), histogram, coldStartStartedAt);
  }

  /**
   * As above, plus when the model last became idle ({@link ModelDecision#idleSince()}): restored as
   * the last time it was seen busy, so a restart in the middle of an idle period neither restarts
   * nor shortens the idle timer.
   */
  public static ModelMemory restored(
      int desiredReplicas,
      ModelState state,
      Optional<Instant> lastRequestTime,
      Optional<Instant> idleSince,
      Optional<KeepAliveHistogram> histogram,
      Optional<Instant> coldStartStartedAt) {
    return new ModelMemory(
        desiredReplicas,
        state,
        lastRequestTime,
        idleSince,
        histogram,
        List.of(),
        Optional.empty(),
        0,
        List.of(),
        coldStartStartedAt);
  }

  /** One load-layer recommendation, kept for the scale-down delay. */
  public record Recommendation(Instant at, int replicas) {
    public Recommendation {
      Objects.requireNonNull(at, "at");
    }
  }
}
