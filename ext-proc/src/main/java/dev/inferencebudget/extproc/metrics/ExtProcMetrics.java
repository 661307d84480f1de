package dev.inferencebudget.extproc.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.time.Duration;
import java.util.Collection;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;

/**
 * The server's Prometheus metrics. Labels are the model key (bounded by the model table; names not
 * in it become {@code unknown}), an outcome and a reason: never a tenant.
 */
public final class ExtProcMetrics {
  public static final String UNKNOWN_MODEL = "unknown";

  private final Counter requests;
  private final Counter tokensCounted;
  private final Counter tokensCharged;
  private final Counter tokensSettled;
  private final Histogram holdSeconds;
  private final Histogram queueWaitSeconds;
  private final Histogram timeToFirstByteSeconds;
  private final Histogram messageSeconds;

  public ExtProcMetrics(PrometheusRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    requests =
        Counter.builder()
            .name("ibc_extproc_requests_total")
            .help("Requests seen, by model, outcome and reason (an OpenAI error code or ok)")
            .labelNames("model", "outcome", "reason")
            .register(registry);
    tokensCounted =
        Counter.builder()
            .name("ibc_extproc_prompt_tokens_counted_total")
            .help("Prompt tokens at admission, by method: bound (UTF-8 length) or exact")
            .labelNames("model", "method")
            .register(registry);
    tokensCharged =
        Counter.builder()
            .name("ibc_extproc_tokens_charged_total")
            .help("Tokens charged to tenant buckets at admission (prompt + requested completion)")
            .labelNames("model")
            .register(registry);
    tokensSettled =
        Counter.builder()
            .name("ibc_extproc_tokens_settled_total")
            .help("Tokens the backends reported in usage, by kind (prompt or completion)")
            .labelNames("model", "kind")
            .register(registry);
    holdSeconds =
        Histogram.builder()
            .name("ibc_extproc_hold_seconds")
            .help("How long requests were held for a cold model")
            .unit(Unit.SECONDS)
            .classicUpperBounds(0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 900)
            .labelNames("model")
            .register(registry);
    queueWaitSeconds =
        Histogram.builder()
            .name("ibc_extproc_queue_wait_seconds")
            .help("How long requests waited for a free slot")
            .unit(Unit.SECONDS)
            .classicUpperBounds(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)
            .labelNames("model")
            .register(registry);
    timeToFirstByteSeconds =
        Histogram.builder()
            .name("ibc_extproc_time_to_first_byte_seconds")
            .help("From forwarding a request to the first byte of its response body")
            .unit(Unit.SECONDS)
            .classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)
            .labelNames("model")
            .register(registry);
    messageSeconds =
        Histogram.builder()
            .name("ibc_extproc_message_processing_seconds")
            .help("Time to process one ext_proc message (synchronous part), by message type")
            .unit(Unit.SECONDS)
            .classicUpperBounds(
                0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1)
            .labelNames("message_type")
            .register(registry);
  }

  /**
   * Gauges read at scrape time: queue depth, held requests and in-flight requests per model.
   *
   * @param models the model keys to report
   */
  public static void registerGauges(
      PrometheusRegistry registry,
      Supplier<Collection<String>> models,
      ToIntFunction<String> queued,
      ToIntFunction<String> held,
      ToIntFunction<String> inFlight) {
    GaugeWithCallback.builder()
        .name("ibc_extproc_queue_depth")
        .help("Requests waiting for a slot, by model")
        .labelNames("model")
        .callback(cb -> models.get().forEach(m -> cb.call(queued.applyAsInt(m), m)))
        .register(registry);
    GaugeWithCallback.builder()
        .name("ibc_extproc_held_requests")
        .help("Requests held for a cold model, by model")
        .labelNames("model")
        .callback(cb -> models.get().forEach(m -> cb.call(held.applyAsInt(m), m)))
        .register(registry);
    GaugeWithCallback.builder()
        .name("ibc_extproc_in_flight_requests")
        .help("Requests forwarded and not yet finished, by model")
        .labelNames("model")
        .callback(cb -> models.get().forEach(m -> cb.call(inFlight.applyAsInt(m), m)))
        .register(registry);
  }

  public void request(String model, String outcome, String reason) {
    requests.labelValues(model, outcome, reason).inc();
  }

  public void promptTokens(String model, boolean exact, long tokens) {
    tokensCounted.labelValues(model, exact ? "exact" : "bound").inc(tokens);
  }

  public void charged(String model, long tokens) {
    tokensCharged.labelValues(model).inc(tokens);
  }

  public void settled(String model, long promptTokens, long completionTokens) {
    tokensSettled.labelValues(model, "prompt").inc(promptTokens);
    tokensSettled.labelValues(model, "completion").inc(completionTokens);
  }

  public void held(String model, Duration duration) {
    holdSeconds.labelValues(model).observe(seconds(duration));
  }

  public void queueWait(String model, Duration duration) {
    queueWaitSeconds.labelValues(model).observe(seconds(duration));
  }

  public void timeToFirstByte(String model, Duration duration) {
    timeToFirstByteSeconds.labelValues(model).observe(seconds(duration));
  }

  public void message(String messageType, long nanos) {
    messageSeconds.labelValues(messageType).observe(nanos / 1e9);
  }

  private static double seconds(Duration duration) {
    return duration.toNanos() / 1e9;
  }
}
