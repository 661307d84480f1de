package dev.inferencebudget.controller.link;

import dev.inferencebudget.proto.v1.LoadReport;
import dev.inferencebudget.proto.v1.ModelLoad;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Sums the load reports of all ext-proc replicas into one view per model.
 *
 * <p>Gauges (in flight, queued, held) are the sum of each replica's latest report, so a replica
 * whose stream ends ({@link #forget}) stops counting at once, unless the replica has already
 * reconnected on a newer stream. Counters (arrivals, tokens) are cumulative over the controller's
 * lifetime and never go back when a replica leaves; the reconciler takes differences between two
 * snapshots. The last request time is the latest any replica saw.
 */
public final class LoadAggregator {

  /** The aggregated load of one model. Counters are cumulative; gauges are current. */
  public record ModelLoadView(
      String modelKey,
      long arrivalsTotal,
      long promptTokensTotal,
      long completionTokensTotal,
      int inFlight,
      int queued,
      int held,
      Instant lastRequest,
      double ttftP50Seconds,
      double ttftP95Seconds) {
    public ModelLoadView {
      Objects.requireNonNull(modelKey, "modelKey");
    }
  }

  private record Gauges(int inFlight, int queued, int held, double ttftP50, double ttftP95) {}

  private static final class Totals {
    long arrivals;
    long promptTokens;
    long completionTokens;
    Instant lastRequest;
  }

  /** replica → model → gauges from that replica's latest report. */
  private final Map<String, Map<String, Gauges>> gaugesByReplica = new HashMap<>();

  /** replica → the stream its latest report came on. */
  private final Map<String, Object> streamByReplica = new HashMap<>();

  private final Map<String, Totals> totalsByModel = new HashMap<>();

  /**
   * Records one report of one replica, received on {@code stream} (any object identifying the
   * stream); a model the replica no longer reports counts as idle.
   */
  public synchronized void accept(LoadReport report, Object stream) {
    Objects.requireNonNull(report, "report");
    Objects.requireNonNull(stream, "stream");
    Map<String, Gauges> gauges = new HashMap<>();
    for (ModelLoad load : report.getModelsList()) {
      gauges.put(
          load.getKey(),
          new Gauges(
              load.getInFlight(),
              load.getQueued(),
              load.getHeld(),
              load.getTtftP50Seconds(),
              load.getTtftP95Seconds()));
      Totals totals = totalsByModel.computeIfAbsent(load.getKey(), k -> new Totals());
      totals.arrivals += Math.max(0, load.getArrivals());
      totals.promptTokens += Math.max(0, load.getPromptTokens());
      totals.completionTokens += Math.max(0, load.getCompletionTokens());
      if (load.hasLastRequest()) {
        Instant seen =
            Instant.ofEpochSecond(
                load.getLastRequest().getSeconds(), load.getLastRequest().getNanos());
        if (totals.lastRequest == null || seen.isAfter(totals.lastRequest)) {
          totals.lastRequest = seen;
        }
      }
    }
    gaugesByReplica.put(report.getReplica(), gauges);
    streamByReplica.put(report.getReplica(), stream);
  }

  /**
   * Drops a replica's gauges because {@code stream} ended; does nothing if the replica has reported
   * on a newer stream since (a reconnect can overtake the old stream's close). Its counted arrivals
   * and tokens stay.
   */
  public synchronized void forget(String replica, Object stream) {
    if (streamByReplica.get(replica) == stream) {
      streamByReplica.remove(replica);
      gaugesByReplica.remove(replica);
    }
  }

  /** The aggregated view of every model any replica has reported, ordered by model key. */
  public synchronized Map<String, ModelLoadView> snapshot() {
    Map<String, ModelLoadView> views = new TreeMap<>();
    for (Map.Entry<String, Totals> entry : totalsByModel.entrySet()) {
      String key = entry.getKey();
      int inFlight = 0;
      int queued = 0;
      int held = 0;
      double p50 = 0;
      double p95 = 0;
      for (Map<String, Gauges> byModel : gaugesByReplica.values()) {
        Gauges g = byModel.get(key);
        if (g != null) {
          inFlight += g.inFlight();
          queued += g.queued();
          held += g.held();
          // Replicas see disjoint requests; without their distributions the worst replica's
          // percentile is the honest upper bound.
          p50 = Math.max(p50, g.ttftP50());
          p95 = Math.max(p95, g.ttftP95());
        }
      }
      Totals t = entry.getValue();
      views.put(
          key,
          new ModelLoadView(
              key,
              t.arrivals,
              t.promptTokens,
              t.completionTokens,
              inFlight,
              queued,
              held,
              t.lastRequest,
              p50,
              p95));
    }
    return views;
  }
}
