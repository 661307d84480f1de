package dev.inferencebudget.extproc.flow;

import com.google.common.base.Ticker;
import dev.inferencebudget.extproc.admission.TenantRateLimiter;
import dev.inferencebudget.extproc.api.ExtProcConfig;
import dev.inferencebudget.extproc.api.ExtProcConfig.RoutingMode;
import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.api.ModelStateSource;
import dev.inferencebudget.extproc.api.ModelTable;
import dev.inferencebudget.extproc.hold.ColdStartHolds;
import dev.inferencebudget.extproc.metrics.ExtProcMetrics;
import dev.inferencebudget.extproc.metrics.LoadTracker;
import dev.inferencebudget.extproc.openai.OpenAiEndpoint;
import dev.inferencebudget.extproc.openai.OpenAiJson;
import dev.inferencebudget.extproc.queue.ConcurrencyGate;
import dev.inferencebudget.extproc.tokens.TokenCountCache;
import dev.inferencebudget.extproc.tokens.Tokenizers;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The parts every request shares (model table, tokenizers, buckets, slots, holds, metrics), and the
 * factory of per-request {@link RequestFlow}s. Follows the model table: each new table releases
 * held requests, resizes queues and starts loading newly named tokenizers.
 */
public final class AdmissionEngine implements AutoCloseable {

  final ExtProcConfig config;
  final ModelStateSource models;
  final Tokenizers tokenizers;
  final TokenCountCache countCache;
  final TenantRateLimiter limiter;
  final ConcurrencyGate gate;
  final ColdStartHolds holds;
  final ExtProcMetrics metrics;
  final LoadTracker load;
  final Ticker ticker;
  private final AutoCloseable subscription;

  public AdmissionEngine(
      ExtProcConfig config,
      ModelStateSource models,
      Tokenizers tokenizers,
      TokenCountCache countCache,
      TenantRateLimiter limiter,
      ConcurrencyGate gate,
      ColdStartHolds holds,
      ExtProcMetrics metrics,
      LoadTracker load,
      Ticker ticker) {
    this.config = Objects.requireNonNull(config, "config");
    this.models = Objects.requireNonNull(models, "models");
    this.tokenizers = Objects.requireNonNull(tokenizers, "tokenizers");
    this.countCache = Objects.requireNonNull(countCache, "countCache");
    this.limiter = Objects.requireNonNull(limiter, "limiter");
    this.gate = Objects.requireNonNull(gate, "gate");
    this.holds = Objects.requireNonNull(holds, "holds");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.load = Objects.requireNonNull(load, "load");
    this.ticker = Objects.requireNonNull(ticker, "ticker");
    this.subscription = models.subscribe(this::onTable);
    onTable(models.current());
  }

  /**
   * Whether a request for {@code model} can be forwarded now. With a routing header: when the
   * controller says Envoy can route to a ready replica. In endpoint-picker mode: when a ready
   * endpoint exists, since the answer names it directly (DESIGN, "Routable"); the gateway that
   * honours the header is not one the controller's xDS server can see ACK anything.
   */
  public static boolean servable(ModelState model, RoutingMode mode) {
    if (mode == RoutingMode.ENDPOINT_PICKER) {
      return !model.readyEndpoints().isEmpty();
    }
    return model.routable();
  }

  boolean servable(ModelState model) {
    return servable(model, config.routingMode());
  }

  private void onTable(ModelTable table) {
    List<String> names = new ArrayList<>();
    for (ModelState model : table.models()) {
      gate.update(model);
      names.add(model.admission().tokenizer());
    }
    tokenizers.prepare(names);
    holds.onTable(table);
  }

  /**
   * A flow for one request to {@code endpoint}.
   *
   * @param header reads a request header by lowercase name (null if absent)
   * @param lock guards the flow and its listener calls (the transport's per-stream lock)
   */
  public RequestFlow newFlow(
      OpenAiEndpoint endpoint, UnaryOperator<String> header, Object lock, FlowListener listener) {
    return new RequestFlow(this, endpoint, header, lock, listener);
  }

  /**
   * The endpoint-picker destinations of an admitted request: its picked endpoint, then fallbacks
   * (see {@link DestinationEndpoints}); empty when the route names no endpoint.
   */
  public List<String> destinations(Route route) {
    if (route.endpoint().isEmpty()) {
      return List.of();
    }
    List<ModelState.Endpoint> ready =
        models.current().byKey(route.modelKey()).map(ModelState::readyEndpoints).orElse(List.of());
    return DestinationEndpoints.ordered(
        route.endpoint().get(), ready, gate.endpointLoad(route.modelKey()));
  }

  /** The {@code /v1/models} body: every model name in the table (a model's key if it has none). */
  public byte[] modelList() {
    Set<String> ids = new LinkedHashSet<>();
    for (ModelState model : models.current().models()) {
      if (model.modelNames().isEmpty()) {
        ids.add(model.key());
      } else {
        ids.addAll(model.modelNames());
      }
    }
    return OpenAiJson.modelList(List.copyOf(ids), "inference-budget");
  }

  /** Exact counts of long texts already seen (conversation prefixes). */
  public TokenCountCache countCache() {
    return countCache;
  }

  public ExtProcConfig config() {
    return config;
  }

  public TenantRateLimiter limiter() {
    return limiter;
  }

  public ConcurrencyGate gate() {
    return gate;
  }

  public ColdStartHolds holds() {
    return holds;
  }

  public ExtProcMetrics metrics() {
    return metrics;
  }

  @Override
  public void close() throws Exception {
    subscription.close();
  }
}
