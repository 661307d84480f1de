package dev.inferencebudget.extproc.link;

import dev.inferencebudget.extproc.api.LoadSource;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Load windows not yet delivered to the controller. While the controller is unreachable, windows
 * are merged rather than dropped: counters add up, gauges take the newest value, the last request
 * time the latest; so the controller learns of every arrival (and does not take a busy model for
 * idle) once the link is back. Not thread-safe; the link touches it from one thread.
 */
final class PendingLoad {

  private final Map<String, LoadSource.ModelLoad> byModel = new LinkedHashMap<>();

  void add(List<LoadSource.ModelLoad> window) {
    for (LoadSource.ModelLoad next : window) {
      byModel.merge(next.key(), next, PendingLoad::merge);
    }
  }

  List<LoadSource.ModelLoad> peek() {
    return new ArrayList<>(byModel.values());
  }

  void clear() {
    byModel.clear();
  }

  boolean isEmpty() {
    return byModel.isEmpty();
  }

  static LoadSource.ModelLoad merge(LoadSource.ModelLoad older, LoadSource.ModelLoad newer) {
    Optional<Instant> last =
        older.lastRequest().isEmpty()
            ? newer.lastRequest()
            : newer.lastRequest().isEmpty()
                ? older.lastRequest()
                : Optional.of(
                    newer.lastRequest().get().isAfter(older.lastRequest().get())
                        ? newer.lastRequest().get()
                        : older.lastRequest().get());
    return new LoadSource.ModelLoad(
        newer.key(),
        older.arrivals() + newer.arrivals(),
        newer.inFlight(),
        newer.queued(),
        newer.held(),
        older.promptTokens() + newer.promptTokens(),
        older.completionTokens() + newer.completionTokens(),
        Double.isNaN(newer.ttftP50Seconds()) ? older.ttftP50Seconds() : newer.ttftP50Seconds(),
        Double.isNaN(newer.ttftP95Seconds()) ? older.ttftP95Seconds() : newer.ttftP95Seconds(),
        last);
  }
}
