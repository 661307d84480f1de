package dev.inferencebudget.controller.decision;

import dev.inferencebudget.controller.decision.ModelMemory.Recommendation;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The load layer: replicas from demand, after Knative's KPA ({@code pkg/autoscaler/scaling/
 * autoscaler.go}). Like the KPA it averages demand over a stable and a panic window, enters panic
 * mode when the panic-window demand reaches {@code panicThreshold} of the ready replicas (and then
 * never scales down until the panic condition has been absent for a stable window), limits a
 * scale-up to {@code maxScaleUpRate} times the ready replicas, and delays a scale-down by keeping
 * the highest recommendation of the last {@code scaleDownDelay}.
 *
 * <p>Where it differs from the KPA, and why:
 *
 * <ul>
 *   <li>Demand has three signals, not one: in-flight plus waiting requests against the in-flight
 *       target (the KPA's concurrency), waiting (queued plus held) requests against a queue-depth
 *       target, and, when set, time to first token against a target (HPA-style proportional: {@code
 *       ceil(ready * observed / target)} above a 10% tolerance). The largest wins. The KPA has no
 *       latency signal; an LLM replica's latency grows with batch size before its concurrency
 *       target is reached.
 *   <li>Samples arrive with their own timestamps from the shell and live in {@link DeciderState};
 *       the KPA buckets per second in a mutable metric collector and reads its own clock. The
 *       window average is the plain mean of the samples in the window.
 *   <li>No target utilisation (the KPA's 70%): targets are used as given.
 *   <li>No max scale-down rate: the scale-down delay and the idle layer bound scale-downs.
 *   <li>Scale to zero is not decided here (the KPA uses zero concurrency over the stable window
 *       plus a grace period): the idle layer decides it from the time since the last request, with
 *       a fixed or learned keep-alive. This layer never asks for fewer than one replica while the
 *       idle layer keeps the model.
 *   <li>The KPA's decision is final; ours is capped by the budget layer.
 * </ul>
 */
final class LoadLayer {
  private LoadLayer() {}

  /** The layer's recommendation and the state to carry. */
  record Outcome(
      int replicas,
      Supplier<String> explanation,
      List<LoadSample> samples,
      Optional<Instant> panicSince,
      int panicMaxReplicas,
      List<Recommendation> recommendations,
      boolean panicStarted,
      boolean panicEnded,
      Optional<Instant> wakeAt) {}

  static Outcome recommend(
      ScalingSpec scaling,
      List<LoadSample> previousSamples,
      Optional<LoadSample> latest,
      int readyReplicas,
      Optional<Instant> previousPanicSince,
      int previousPanicMax,
      List<Recommendation> previousRecommendations,
      Instant now) {
    List<LoadSample> samples = new ArrayList<>();
    Instant stableStart = now.minus(scaling.stableWindow());
    for (LoadSample s : previousSamples) {
      if (s.observedAt().isAfter(stableStart)) {
        samples.add(s);
      }
    }
    if (latest.isPresent()) {
      LoadSample s = latest.get();
      boolean newer =
          previousSamples.isEmpty()
              || s.observedAt()
                  .isAfter(previousSamples.get(previousSamples.size() - 1).observedAt());
      if (newer && s.observedAt().isAfter(stableStart)) {
        samples.add(s);
      }
    }
    Instant panicStart = now.minus(scaling.panicWindow());
    List<LoadSample> panicSamples = new ArrayList<>();
    for (LoadSample s : samples) {
      if (s.observedAt().isAfter(panicStart)) {
        panicSamples.add(s);
      }
    }

    int readyForRatio = Math.max(1, readyReplicas);
    int stableReplicas = replicasFor(scaling, samples, readyReplicas);
    int panicReplicas = replicasFor(scaling, panicSamples, readyReplicas);

    // Panic mode as in the KPA: (re)armed while over the threshold, left one stable window after
    // the last time it was over it; while in panic the recommendation never decreases.
    boolean overPanic =
        !panicSamples.isEmpty()
            && panicReplicas * 100.0 / readyForRatio >= scaling.panicThresholdPercent();
    Optional<Instant> panicSince = previousPanicSince;
    int panicMax = previousPanicMax;
    boolean started = false;
    boolean ended = false;
    if (overPanic) {
      started = panicSince.isEmpty();
      panicSince = Optional.of(now);
    } else if (panicSince.isPresent()
        && !now.isBefore(panicSince.get().plus(scaling.stableWindow()))) {
      panicSince = Optional.empty();
      panicMax = 0;
      ended = true;
    }
    int replicas;
    boolean inPanic = panicSince.isPresent();
    if (inPanic) {
      replicas = Math.max(panicReplicas, panicMax);
      panicMax = replicas;
    } else {
      replicas = stableReplicas;
    }
    long maxUp = (long) Math.ceil(scaling.maxScaleUpRate() * readyForRatio);
    boolean rateLimited = replicas > maxUp;
    if (rateLimited) {
      replicas = (int) maxUp;
    }

    // Scale-down delay: the highest recommendation within the delay wins.
    List<Recommendation> recommendations = new ArrayList<>();
    Instant delayStart = now.minus(scaling.scaleDownDelay());
    for (Recommendation r : previousRecommendations) {
      if (r.at().isAfter(delayStart) && r.at().isBefore(now)) {
        recommendations.add(r);
      }
    }
    recommendations.add(new Recommendation(now, replicas));
    int delayed = replicas;
    Instant wakeAt = null;
    for (Recommendation r : recommendations) {
      if (r.replicas() > replicas) {
        delayed = Math.max(delayed, r.replicas());
        Instant expiry = r.at().plus(scaling.scaleDownDelay());
        wakeAt = wakeAt == null || expiry.isBefore(wakeAt) ? expiry : wakeAt;
      }
    }
    // Reasons are only read when something changes: build the text lazily.
    int held = delayed;
    int recommended = replicas;
    List<LoadSample> window = inPanic ? panicSamples : samples;
    Supplier<String> explanation =
        () -> {
          String text =
              inPanic
                  ? "panic mode: " + describe(scaling, window, scaling.panicWindow())
                  : describe(scaling, window, scaling.stableWindow());
          if (rateLimited) {
            text +=
                String.format(
                    Locale.ROOT, ", limited by max scale-up rate %.1f", scaling.maxScaleUpRate());
          }
          if (held > recommended) {
            text +=
                ", held at "
                    + held
                    + " by the scale-down delay of "
                    + Durations.format(scaling.scaleDownDelay());
          }
          return text;
        };
    recommendations = compact(recommendations);
    if (panicSince.isPresent()) {
      wakeAt = earliest(wakeAt, panicSince.get().plus(scaling.stableWindow()));
    }
    // While load is in the window, its average changes when the oldest sample leaves it.
    for (LoadSample s : samples) {
      if (s.demand() > 0) {
        wakeAt = earliest(wakeAt, s.observedAt().plus(scaling.stableWindow()));
        break;
      }
    }
    return new Outcome(
        delayed,
        explanation,
        List.copyOf(samples),
        panicSince,
        panicMax,
        List.copyOf(recommendations),
        started,
        ended,
        Optional.ofNullable(wakeAt));
  }

  /**
   * Drops recommendations that can never be the maximum again: one that is not greater than a later
   * one expires first and is dominated until then. Keeps the carried list short.
   */
  private static List<Recommendation> compact(List<Recommendation> in) {
    List<Recommendation> out = new ArrayList<>();
    for (Recommendation r : in) {
      while (!out.isEmpty() && out.get(out.size() - 1).replicas() <= r.replicas()) {
        out.remove(out.size() - 1);
      }
      out.add(r);
    }
    return out;
  }

  private static Instant earliest(Instant a, Instant b) {
    return a == null || b.isBefore(a) ? b : a;
  }

  private static int replicasFor(ScalingSpec scaling, List<LoadSample> window, int ready) {
    if (window.isEmpty()) {
      return 0;
    }
    double demand = 0;
    double waiting = 0;
    double ttftSeconds = 0;
    int ttftCount = 0;
    for (LoadSample s : window) {
      demand += s.demand();
      waiting += s.queued() + s.held();
      if (s.timeToFirstToken().isPresent()) {
        ttftSeconds += s.timeToFirstToken().get().toNanos() / 1e9;
        ttftCount++;
      }
    }
    demand /= window.size();
    waiting /= window.size();
    int replicas =
        (int)
            Math.max(
                Math.ceil(demand / scaling.targetInFlightPerReplica() - 1e-9),
                Math.ceil(waiting / scaling.targetQueueDepthPerReplica() - 1e-9));
    if (scaling.targetTimeToFirstToken().isPresent() && ttftCount > 0 && ready > 0) {
      double target = scaling.targetTimeToFirstToken().get().toNanos() / 1e9;
      double observed = ttftSeconds / ttftCount;
      if (observed > target * 1.1) {
        replicas = Math.max(replicas, (int) Math.ceil(ready * observed / target));
      }
    }
    return Math.max(0, replicas);
  }

  private static String describe(ScalingSpec scaling, List<LoadSample> window, Duration length) {
    if (window.isEmpty()) {
      return "no load samples in the last " + Durations.format(length);
    }
    double demand = window.stream().mapToInt(LoadSample::demand).average().orElse(0);
    double waiting = window.stream().mapToInt(s -> s.queued() + s.held()).average().orElse(0);
    return String.format(
        Locale.ROOT,
        "%.1f requests in flight or waiting (%.1f waiting) over %s, targets %s in flight and %s"
            + " waiting per replica",
        demand,
        waiting,
        Durations.format(length),
        trim(scaling.targetInFlightPerReplica()),
        trim(scaling.targetQueueDepthPerReplica()));
  }

  private static String trim(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }
}
