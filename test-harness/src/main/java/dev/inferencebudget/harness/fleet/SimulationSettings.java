package dev.inferencebudget.harness.fleet;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * How the simulated controller and cluster behave.
 *
 * @param start the virtual time of the trace's first request
 * @param stretch trace offsets are multiplied by this (24 turns the 1-hour trace into about a day)
 * @param tickInterval the controller reconciles every tick (and also when a request arrives for a
 *     model at zero)
 * @param terminationDelay a terminated replica holds its GPU memory this long (and until it has
 *     drained)
 * @param holdTimeout a request held for a cold start longer than this is answered 503 and counted
 *     as timed out
 * @param sampleInterval the time series records the fleet this often
 */
public record SimulationSettings(
    Instant start,
    double stretch,
    Duration tickInterval,
    Duration terminationDelay,
    Duration holdTimeout,
    Duration sampleInterval) {
  public SimulationSettings {
    Objects.requireNonNull(start, "start");
    Objects.requireNonNull(tickInterval, "tickInterval");
    Objects.requireNonNull(terminationDelay, "terminationDelay");
    Objects.requireNonNull(holdTimeout, "holdTimeout");
    Objects.requireNonNull(sampleInterval, "sampleInterval");
    if (!(stretch > 0) || Double.isInfinite(stretch)) {
      throw new IllegalArgumentException("stretch = " + stretch + ", must be > 0");
    }
    if (tickInterval.toMillis() < 1 || sampleInterval.toMillis() < 1) {
      throw new IllegalArgumentException("tick and sample intervals must be >= 1ms");
    }
    if (terminationDelay.isNegative() || holdTimeout.isNegative()) {
      throw new IllegalArgumentException("terminationDelay and holdTimeout must be >= 0");
    }
  }

  /** Every default in one place. */
  public static SimulationSettings defaults() {
    return new SimulationSettings(
        Instant.parse("2023-11-16T18:17:03Z"),
        24.0,
        Duration.ofSeconds(2),
        Duration.ofSeconds(10),
        Duration.ofMinutes(5),
        Duration.ofMinutes(1));
  }
}
