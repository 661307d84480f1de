package dev.inferencebudget.extproc.api;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The server's per-model load, read by the controller link once per reporting interval and sent as
 * an {@code ibc.v1.LoadReport}. Pull rather than push, so the link owns the schedule.
 */
public interface LoadSource {

  /**
   * The load of every model seen since the previous call; counters (arrivals, tokens) cover that
   * window and restart at zero, gauges (in flight, queued, held) are current.
   */
  List<ModelLoad> drainWindow();

  /** Mirrors {@code ibc.v1.ModelLoad}. TTFT quantiles are NaN when nothing was measured. */
  record ModelLoad(
      String key,
      long arrivals,
      int inFlight,
      int queued,
      int held,
      long promptTokens,
      long completionTokens,
      double ttftP50Seconds,
      double ttftP95Seconds,
      Optional<Instant> lastRequest) {
    public ModelLoad {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(lastRequest, "lastRequest");
    }
  }
}
