package dev.inferencebudget.harness.replay;

import dev.inferencebudget.controller.decision.KeepAlivePolicy.Adaptive;
import dev.inferencebudget.harness.fleet.Fleet;
import dev.inferencebudget.harness.fleet.KeepAlivePolicy;
import dev.inferencebudget.harness.fleet.SimulationSettings;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What is replayed and how fast: the fleet simulator's scenario (fleet, policy, settings) plus the
 * speed-up, the window of the trace and the token caps.
 *
 * @param fleet the models and their budget, as in the fleet simulator
 * @param policy the keep-alive policy every model gets: always-on, fixed, or adaptive (the decision
 *     core's paper defaults, see {@link #adaptiveKeepAlive()}, in trace time)
 * @param settings stretch, controller tick, termination delay and hold timeout, in trace time
 * @param speed trace seconds per wall second (60 plays one trace hour in one wall minute)
 * @param windowStart the window starts this long (trace time) after the trace's first request
 * @param windowDuration the window's length in trace time; empty means to the end of the trace
 * @param maxPromptTokens prompts longer than this are sent with this many tokens
 * @param maxCompletionTokens completions longer than this are asked for with this many tokens
 * @param adaptiveFallback the adaptive policy's idle timeout until its histogram is representative
 *     (trace time; fleet-sim's {@code --adaptive-fallback})
 */
public record ReplayScenario(
    Fleet fleet,
    KeepAlivePolicy policy,
    SimulationSettings settings,
    double speed,
    Duration windowStart,
    Optional<Duration> windowDuration,
    int maxPromptTokens,
    int maxCompletionTokens,
    Duration adaptiveFallback) {
  /** fleet-sim's default {@code --adaptive-fallback}. */
  public static final Duration DEFAULT_ADAPTIVE_FALLBACK = Duration.ofMinutes(10);

  public ReplayScenario {
    Objects.requireNonNull(fleet, "fleet");
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(windowStart, "windowStart");
    Objects.requireNonNull(windowDuration, "windowDuration");
    Objects.requireNonNull(adaptiveFallback, "adaptiveFallback");
    if (!(speed > 0) || Double.isInfinite(speed)) {
      throw new IllegalArgumentException("speed = " + speed + ", must be > 0");
    }
    if (adaptiveFallback.isNegative() || adaptiveFallback.isZero()) {
      throw new IllegalArgumentException(
          "adaptive-fallback = " + adaptiveFallback + ", must be > 0");
    }
    if (policy instanceof KeepAlivePolicy.Adaptive
        && Adaptive.defaults(adaptiveFallback).bucketWidth().toNanos() / speed < 1_000_000) {
      // The controller counts idle gaps in whole milliseconds: a shorter bucket is no bucket.
      throw new IllegalArgumentException(
          "speed = "
              + speed
              + " makes the adaptive histogram's one-minute bucket shorter than 1 ms of wall time");
    }
    if (windowStart.isNegative()) {
      throw new IllegalArgumentException("start = " + windowStart + ", must be >= 0");
    }
    if (windowDuration.isPresent()
        && (windowDuration.get().isNegative() || windowDuration.get().isZero())) {
      throw new IllegalArgumentException("duration = " + windowDuration.get() + ", must be > 0");
    }
    if (maxPromptTokens < 8 || maxCompletionTokens < 1) {
      throw new IllegalArgumentException(
          "max-prompt-tokens must be >= 8 and max-completion-tokens >= 1, got "
              + maxPromptTokens
              + "/"
              + maxCompletionTokens);
    }
  }

  /** With fleet-sim's default adaptive fallback (10 minutes). */
  public ReplayScenario(
      Fleet fleet,
      KeepAlivePolicy policy,
      SimulationSettings settings,
      double speed,
      Duration windowStart,
      Optional<Duration> windowDuration,
      int maxPromptTokens,
      int maxCompletionTokens) {
    this(
        fleet,
        policy,
        settings,
        speed,
        windowStart,
        windowDuration,
        maxPromptTokens,
        maxCompletionTokens,
        DEFAULT_ADAPTIVE_FALLBACK);
  }

  /** The same scenario with another keep-alive policy. */
  public ReplayScenario withPolicy(KeepAlivePolicy other) {
    return new ReplayScenario(
        fleet,
        other,
        settings,
        speed,
        windowStart,
        windowDuration,
        maxPromptTokens,
        maxCompletionTokens,
        adaptiveFallback);
  }

  /**
   * The adaptive keep-alive in trace time, exactly as the fleet simulator runs it ({@code
   * DecisionCoreAutoscaler}: the paper's defaults, one-minute buckets over four hours, with {@link
   * #adaptiveFallback}). The sandbox runs it in wall time, see {@link #adaptiveKeepAliveWall()}.
   */
  public Adaptive adaptiveKeepAlive() {
    return Adaptive.defaults(adaptiveFallback);
  }

  /**
   * The adaptive keep-alive in wall time, for the sandbox's controller: the bucket width divided by
   * the speed and rounded to whole milliseconds (the controller's resolution; exact at speed 60),
   * the same number of buckets, and the fallback divided by the speed. Both sides then see the same
   * policy in trace time: a gap of g trace seconds is a gap of g / speed wall seconds, and lands in
   * the same bucket.
   */
  public Adaptive adaptiveKeepAliveWall() {
    Adaptive trace = adaptiveKeepAlive();
    Duration width =
        Duration.ofMillis(Math.max(1, Math.round(trace.bucketWidth().toNanos() / speed / 1e6)));
    long buckets = trace.histogramRange().toMillis() / trace.bucketWidth().toMillis();
    return new Adaptive(
        wall(trace.fallbackIdleTimeout()),
        width.multipliedBy(buckets),
        width,
        trace.minSamples(),
        trace.keepAlivePercentile(),
        trace.prewarmPercentile(),
        trace.prewarm(),
        trace.marginPercent(),
        trace.minBucketCountCv(),
        trace.maxOutOfBoundsPercent());
  }

  /** A trace-time duration in wall time (at least a microsecond when not zero). */
  public Duration wall(Duration traceTime) {
    if (traceTime.isZero()) {
      return Duration.ZERO;
    }
    return Duration.ofNanos(Math.max(1_000, Math.round(traceTime.toNanos() / speed)));
  }

  /** A wall-time duration in trace time. */
  public Duration trace(Duration wallTime) {
    return Duration.ofNanos(Math.round(wallTime.toNanos() * speed));
  }

  /** A token rate (per second of trace time) in wall time. */
  public double wallRate(double perTraceSecond) {
    return perTraceSecond * speed;
  }
}
