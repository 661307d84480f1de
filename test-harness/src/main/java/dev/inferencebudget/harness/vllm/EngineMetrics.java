package dev.inferencebudget.harness.vllm;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The engine's Prometheus metrics under vLLM's names (as of vLLM 0.12, from {@code
 * vllm/v1/metrics/loggers.py}), each with vLLM's {@code model_name} and {@code engine} labels.
 * Counters are declared without {@code _total}, as vLLM declares them; the text format adds it.
 * Each simulator has its own registry, so many can run in one JVM.
 */
public final class EngineMetrics {
  /** vLLM's buckets for {@code vllm:time_to_first_token_seconds}. */
  private static final double[] TTFT_BUCKETS = {
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    20.0, 40.0, 80.0, 160.0, 640.0, 2560.0
  };

  /** vLLM's buckets for request latency histograms (e2e, queue). */
  private static final double[] REQUEST_LATENCY_BUCKETS = {
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
    480.0, 960.0, 1920.0, 7680.0
  };

  private static final String ENGINE = "0";

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer =
      PrometheusTextFormatWriter.builder().setIncludeCreatedTimestamps(false).build();
  private final String modelName;
  private final long gpuMemoryBytes;
  private final Supplier<EngineStats> stats;
  private final Gauge running;
  private final Gauge waiting;
  private final Gauge kvCacheUsage;
  private final Gauge deprecatedGpuCacheUsage;
  private final Gauge gpuMemory;
  private final Counter promptTokens;
  private final Counter generationTokens;
  private final Counter requestSuccess;
  private final Histogram timeToFirstToken;
  private final Histogram e2eLatency;
  private final Histogram queueTime;
  private final Histogram requestPromptTokens;
  private final Histogram requestGenerationTokens;

  /** Metrics of one engine; {@code stats} is read at each scrape for the gauges. */
  public EngineMetrics(VllmSimulatorConfig config, Supplier<EngineStats> stats) {
    Objects.requireNonNull(config, "config");
    this.stats = Objects.requireNonNull(stats, "stats");
    this.modelName = config.primaryModelName();
    this.gpuMemoryBytes = config.gpuMemoryBytes();
    running = gauge("vllm:num_requests_running", "Number of requests in model execution batches.");
    waiting = gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.");
    kvCacheUsage = gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.");
    deprecatedGpuCacheUsage =
        config.exposeDeprecatedCacheMetric()
            ? gauge(
                "vllm:gpu_cache_usage_perc",
                "GPU KV-cache usage. 1 means 100 percent usage."
                    + " DEPRECATED: Use vllm:kv_cache_usage_perc instead.")
            : null;
    gpuMemory =
        Gauge.builder()
            .name("ibc_simulator_gpu_memory_bytes")
            .help("GPU memory the simulated server occupies (not a vLLM metric).")
            .labelNames("model_name")
            .register(registry);
    promptTokens = counter("vllm:prompt_tokens", "Number of prefill tokens processed.");
    generationTokens = counter("vllm:generation_tokens", "Number of generation tokens processed.");
    requestSuccess =
        Counter.builder()
            .name("vllm:request_success")
            .help("Count of successfully processed requests.")
            .labelNames("model_name", "engine", "finished_reason")
            .register(registry);
    timeToFirstToken =
        histogram(
            "vllm:time_to_first_token_seconds",
            "Histogram of time to first token in seconds.",
            TTFT_BUCKETS);
    e2eLatency =
        histogram(
            "vllm:e2e_request_latency_seconds",
            "Histogram of e2e request latency in seconds.",
            REQUEST_LATENCY_BUCKETS);
    queueTime =
        histogram(
            "vllm:request_queue_time_seconds",
            "Histogram of time spent in WAITING phase for request.",
            REQUEST_LATENCY_BUCKETS);
    double[] tokenBuckets = oneTwoFiveBuckets(config.maxModelLen());
    requestPromptTokens =
        histogram(
            "vllm:request_prompt_tokens", "Number of prefill tokens processed.", tokenBuckets);
    requestGenerationTokens =
        histogram(
            "vllm:request_generation_tokens",
            "Number of generation tokens processed.",
            tokenBuckets);
    Gauge.builder()
        .name("vllm:cache_config_info")
        .help("Information of the LLMEngine CacheConfig")
        .labelNames(
            "block_size", "enable_prefix_caching", "gpu_memory_utilization", "num_gpu_blocks")
        .register(registry)
        .labelValues(
            "16", "True", "0.9", Long.toString(Math.max(1, config.kvCacheCapacityTokens() / 16)))
        .set(1);
    // vLLM binds every series when it starts, so a scrape shows zeros rather than nothing.
    for (InferenceEngine.FinishReason r : InferenceEngine.FinishReason.values()) {
      requestSuccess.labelValues(modelName, ENGINE, r.wireName());
    }
    for (Counter c : List.of(promptTokens, generationTokens)) {
      c.labelValues(modelName, ENGINE);
    }
    for (Histogram h :
        List.of(
            timeToFirstToken,
            e2eLatency,
            queueTime,
            requestPromptTokens,
            requestGenerationTokens)) {
      h.labelValues(modelName, ENGINE);
    }
  }

  void prefilled(int promptTokenCount, double timeToFirstTokenSeconds) {
    promptTokens.labelValues(modelName, ENGINE).inc(promptTokenCount);
    timeToFirstToken.labelValues(modelName, ENGINE).observe(timeToFirstTokenSeconds);
  }

  void generated(long tokens) {
    generationTokens.labelValues(modelName, ENGINE).inc(tokens);
  }

  void finished(
      InferenceEngine.FinishReason reason,
      int promptTokenCount,
      long generatedTokens,
      double e2eSeconds,
      double queueSeconds) {
    requestSuccess.labelValues(modelName, ENGINE, reason.wireName()).inc();
    e2eLatency.labelValues(modelName, ENGINE).observe(e2eSeconds);
    queueTime.labelValues(modelName, ENGINE).observe(queueSeconds);
    requestPromptTokens.labelValues(modelName, ENGINE).observe(promptTokenCount);
    requestGenerationTokens.labelValues(modelName, ENGINE).observe(generatedTokens);
  }

  /** The Prometheus text exposition (format 0.0.4) of every metric, gauges read now. */
  public String scrape() {
    EngineStats s = stats.get();
    running.labelValues(modelName, ENGINE).set(s.runningSeqs());
    waiting.labelValues(modelName, ENGINE).set(s.waitingSeqs());
    kvCacheUsage.labelValues(modelName, ENGINE).set(s.kvCacheUsage());
    if (deprecatedGpuCacheUsage != null) {
      deprecatedGpuCacheUsage.labelValues(modelName, ENGINE).set(s.kvCacheUsage());
    }
    // Sleep level 1 offloads the weights and discards the KV cache: the GPU memory is released.
    gpuMemory.labelValues(modelName).set(s.sleeping() ? 0 : gpuMemoryBytes);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      writer.write(out, registry.scrape(), EscapingScheme.ALLOW_UTF8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString(java.nio.charset.StandardCharsets.UTF_8);
  }

  /** The content type of {@link #scrape()}. */
  public String contentType() {
    return writer.getContentType();
  }

  private Gauge gauge(String name, String help) {
    return Gauge.builder()
        .name(name)
        .help(help)
        .labelNames("model_name", "engine")
        .register(registry);
  }

  private Counter counter(String name, String help) {
    return Counter.builder()
        .name(name)
        .help(help)
        .labelNames("model_name", "engine")
        .register(registry);
  }

  private Histogram histogram(String name, String help, double[] buckets) {
    return Histogram.builder()
        .name(name)
        .help(help)
        .classicOnly()
        .classicUpperBounds(buckets)
        .labelNames("model_name", "engine")
        .register(registry);
  }

  /** vLLM's {@code build_1_2_5_buckets}: 1, 2, 5, 10, 20, 50, ... up to {@code max}. */
  static double[] oneTwoFiveBuckets(int max) {
    List<Double> buckets = new ArrayList<>();
    for (long exponent = 1; ; exponent *= 10) {
      for (int mantissa : new int[] {1, 2, 5}) {
        long value = mantissa * exponent;
        if (value > max) {
          return buckets.stream().mapToDouble(Double::doubleValue).toArray();
        }
        buckets.add((double) value);
      }
    }
  }
}
