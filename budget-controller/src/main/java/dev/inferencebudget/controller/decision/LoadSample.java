package dev.inferencebudget.controller.decision;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One observation of a model's load, summed over all proxies. The decider keeps the samples of the
 * stable window in {@link DeciderState}; a sample whose {@code observedAt} is not after the last
 * kept one is ignored, so handing the same observation to several decisions is harmless.
 *
 * @param observedAt when the gauges were read (the end of the reporting interval)
 * @param inFlight requests being served by replicas
 * @param queued requests waiting at the proxy for a free replica slot
 * @param held requests held at the proxy for a cold start
 * @param arrivals requests that arrived during the reporting interval
 * @param timeToFirstToken a latency figure for the interval (the shell chooses: p50 or p95), when
 *     measured
 */
public record LoadSample(
    Instant observedAt,
    int inFlight,
    int queued,
    int held,
    long arrivals,
    Optional<Duration> timeToFirstToken) {

  public LoadSample {
    Objects.requireNonNull(observedAt, "observedAt");
    Objects.requireNonNull(timeToFirstToken, "timeToFirstToken");
    if (inFlight < 0 || queued < 0 || held < 0 || arrivals < 0) {
      throw new IllegalArgumentException("load gauges and arrivals must be >= 0");
    }
  }

  public static LoadSample of(Instant observedAt, int inFlight, int queued, int held) {
    return new LoadSample(observedAt, inFlight, queued, held, 0, Optional.empty());
  }

  /** Requests that want a replica: served, waiting, or held. */
  public int demand() {
    return inFlight + queued + held;
  }

  /** Whether anything was going on. */
  public boolean busy() {
    return demand() > 0 || arrivals > 0;
  }
}
