package dev.inferencebudget.controller.decision;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The idle layer: whether a model is active (a request is held, in flight or queued), kept (idle
 * for less than its keep-alive), or idle (then it goes to its floor: {@code replicas.min} or an
 * active schedule's minimum). A request for a model at zero activates it (at least one replica).
 *
 * <p>The keep-alive is fixed, or learned per model from a histogram of idle gaps as in Shahrad et
 * al., "Serverless in the Wild" (ATC 2020). Differences from the paper: a gap is measured from the
 * moment the model was last seen busy to the next request (the paper measures from the end of an
 * execution), and several requests between two decisions make one gap, not one per request (the
 * shell sees counts, not each arrival; gaps shorter than a decision interval carry no keep-alive
 * information). A histogram that is not representative falls back to the fixed timeout, where the
 * paper would switch to an ARIMA forecast for out-of-range gaps.
 */
final class IdleLayer {
  private IdleLayer() {}

  /** Where the model stands with respect to idleness. */
  enum Mode {
    /** A request is held, in flight or queued. */
    ACTIVE,
    /** Idle for less than the keep-alive, with replicas (or pre-warmed). */
    KEPT,
    /** Idle before the learned pre-warm point: unloaded on purpose. */
    UNLOADED_UNTIL_PREWARM,
    /** Idle for at least the keep-alive, or never requested, or at zero without a request. */
    IDLE
  }

  record Outcome(
      Mode mode,
      int floor,
      String floorReason,
      Duration keepAlive,
      String keepAliveSource,
      boolean prewarm,
      Optional<Instant> idleSince,
      Optional<Instant> idleDeadline,
      Optional<Instant> wakeAt,
      Optional<Instant> lastRequestSeen,
      Optional<Instant> lastBusyAt,
      Optional<KeepAliveHistogram> histogram) {}

  static Outcome evaluate(
      ModelSpec spec, ModelObservation obs, ModelMemory memory, boolean running, Instant now) {
    // The floor: replicas.min, raised by any active schedule.
    int floor = spec.minReplicas();
    String floorReason = "replicas.min is " + floor;
    Instant wakeAt = null;
    for (Schedule schedule : spec.schedules()) {
      if (schedule.isActive(now) && schedule.minReplicas() > floor) {
        floor = schedule.minReplicas();
        floorReason = "schedule " + schedule.name() + " keeps at least " + floor;
      }
      wakeAt = earliest(wakeAt, schedule.nextBoundaryAfter(now));
    }

    Optional<Instant> lastRequest = obs.lastRequestTime();
    if (obs.pendingActivation().isPresent()) {
      Instant requested = obs.pendingActivation().get().requestedAt();
      if (lastRequest.isEmpty() || requested.isAfter(lastRequest.get())) {
        lastRequest = Optional.of(requested);
      }
    }

    // Learn: a request later than the last one seen closes an idle gap.
    Optional<KeepAliveHistogram> histogram = Optional.empty();
    if (spec.keepAlive() instanceof KeepAlivePolicy.Adaptive adaptive) {
      histogram =
          Optional.of(
              memory
                  .histogram()
                  .filter(h -> h.fits(adaptive))
                  .orElseGet(() -> KeepAliveHistogram.empty(adaptive)));
    }
    Optional<Instant> lastRequestSeen = memory.lastRequestSeen();
    if (lastRequest.isPresent()
        && (lastRequestSeen.isEmpty() || lastRequest.get().isAfter(lastRequestSeen.get()))) {
      if (lastRequestSeen.isPresent() && histogram.isPresent()) {
        Instant wentIdle = latest(lastRequestSeen, memory.lastBusyAt()).orElseThrow();
        Duration gap = Duration.between(wentIdle, lastRequest.get());
        histogram = Optional.of(histogram.get().record(gap.isNegative() ? Duration.ZERO : gap));
      }
      lastRequestSeen = lastRequest;
    }
    Optional<Instant> lastBusyAt = memory.lastBusyAt();
    if (obs.load().isPresent() && obs.load().get().busy()) {
      lastBusyAt = latest(lastBusyAt, Optional.of(obs.load().get().observedAt()));
    }

    // The keep-alive in force.
    Duration keepAlive = spec.keepAlive().fallbackIdleTimeout();
    Duration prewarmAfter = Duration.ZERO;
    String source;
    if (spec.keepAlive() instanceof KeepAlivePolicy.Adaptive adaptive) {
      KeepAliveHistogram h = histogram.orElseThrow();
      Optional<KeepAliveHistogram.KeepAliveWindow> window = h.window(adaptive);
      if (window.isPresent()) {
        keepAlive = window.get().keepAlive();
        prewarmAfter = window.get().prewarmAfter();
        source =
            "adaptive keep-alive "
                + Durations.format(keepAlive)
                + " learned from "
                + h.inRange()
                + " idle gaps";
      } else {
        source =
            "fixed keep-alive "
                + Durations.format(keepAlive)
                + " (adaptive histogram not representative yet: "
                + h.inRange()
                + " gaps in range, "
                + h.outOfBounds()
                + " out of range)";
      }
    } else {
      source = "fixed keep-alive " + Durations.format(keepAlive);
    }

    boolean busyNow =
        obs.pendingActivation().isPresent() || obs.load().map(l -> l.demand() > 0).orElse(false);
    Optional<Instant> idleSince = latest(lastRequest, lastBusyAt);
    Mode mode;
    Instant idleDeadline = null;
    boolean prewarm = false;
    if (busyNow) {
      mode = Mode.ACTIVE;
    } else if (idleSince.isEmpty()) {
      mode = Mode.IDLE;
    } else {
      Duration idleFor = Duration.between(idleSince.get(), now);
      Instant keepUntil = idleSince.get().plus(keepAlive);
      if (prewarmAfter.compareTo(Duration.ZERO) > 0 && idleFor.compareTo(prewarmAfter) < 0) {
        mode = Mode.UNLOADED_UNTIL_PREWARM;
        wakeAt = earliest(wakeAt, idleSince.get().plus(prewarmAfter));
      } else if (idleFor.compareTo(keepAlive) < 0
          && (running || prewarmAfter.compareTo(Duration.ZERO) > 0)) {
        // The keep-alive keeps replicas; it starts none, except at the learned pre-warm point.
        mode = Mode.KEPT;
        prewarm = !running;
        idleDeadline = keepUntil;
        wakeAt = earliest(wakeAt, keepUntil);
      } else {
        mode = Mode.IDLE;
      }
    }
    return new Outcome(
        mode,
        floor,
        floorReason,
        keepAlive,
        source,
        prewarm,
        idleSince,
        Optional.ofNullable(idleDeadline),
        Optional.ofNullable(wakeAt),
        lastRequestSeen,
        lastBusyAt,
        histogram);
  }

  private static Optional<Instant> latest(Optional<Instant> a, Optional<Instant> b) {
    if (a.isEmpty()) {
      return b;
    }
    if (b.isEmpty()) {
      return a;
    }
    return a.get().isAfter(b.get()) ? a : b;
  }

  private static Instant earliest(Instant a, Instant b) {
    return a == null || b.isBefore(a) ? b : a;
  }
}
