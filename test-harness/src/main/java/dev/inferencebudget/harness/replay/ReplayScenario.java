package dev.inferencebudget.harness.replay;

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
 * @param policy the keep-alive policy every model gets (always-on or fixed; the adaptive policy
 *     learns in fixed one-minute buckets of wall time, so it cannot be replayed at a speed-up)
 * @param settings stretch, controller tick, termination delay and hold timeout, in trace time
 * @param speed trace seconds per wall second (60 plays one trace hour in one wall minute)
 * @param windowStart the window starts this long (trace time) after the trace's first request
 * @param windowDuration the window's length in trace time; empty means to the end of the trace
 * @param maxPromptTokens prompts longer than this are sent with this many tokens
 * @param maxCompletionTokens completions longer than this are asked for with this many tokens
 */
public record ReplayScenario(
    Fleet fleet,
    KeepAlivePolicy policy,
    SimulationSettings settings,
    double speed,
    Duration windowStart,
    Optional<Duration> windowDuration,
    int maxPromptTokens,
    int maxCompletionTokens) {
  public ReplayScenario {
    Objects.requireNonNull(fleet, "fleet");
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(windowStart, "windowStart");
    Objects.requireNonNull(windowDuration, "windowDuration");
    if (policy instanceof KeepAlivePolicy.Adaptive) {
      throw new IllegalArgumentException(
          "policy = adaptive: its histogram has fixed one-minute buckets, so it cannot be replayed"
              + " at a speed-up; use always-on or a fixed keep-alive");
    }
    if (!(speed > 0) || Double.isInfinite(speed)) {
      throw new IllegalArgumentException("speed = " + speed + ", must be > 0");
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
