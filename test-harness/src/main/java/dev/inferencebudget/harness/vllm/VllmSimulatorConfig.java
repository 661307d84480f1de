package dev.inferencebudget.harness.vllm;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Configuration of one simulated vLLM server. {@link #defaults()} lists every default in one place;
 * {@link #validate()} names the offending key.
 *
 * @param host address to bind (loopback in tests)
 * @param port port to bind; 0 picks a free one
 * @param servedModelNames the names the server answers to ({@code --served-model-name}); the first
 *     is the {@code model_name} label of every metric, as in vLLM
 * @param loadTime how long after start the model is "loaded": until then {@code /health} answers
 *     503 and inference requests are refused with 503
 * @param prefillTokensPerSecond prompt processing speed of one sequence
 * @param decodeTokensPerSecond output speed of one sequence (inter-token latency is its inverse)
 * @param maxNumSeqs sequences that run at once ({@code --max-num-seqs}); a request with {@code n}
 *     choices takes {@code n} of them, the rest wait in FIFO order
 * @param maxModelLen context length ({@code --max-model-len}); prompt plus {@code max_tokens} over
 *     it is refused with 400, as vLLM does
 * @param defaultMaxTokens output tokens of a request that sets no {@code max_tokens}; such a
 *     request ends with {@code finish_reason = "stop"}, one that sets it generates exactly that
 *     many and ends with {@code "length"}
 * @param kvCacheCapacityTokens tokens the KV cache holds; {@code vllm:kv_cache_usage_perc} is the
 *     running sequences' prompt and output tokens over it
 * @param gpuMemoryBytes GPU memory the server occupies while awake (weights plus KV cache), exposed
 *     as {@code ibc_simulator_gpu_memory_bytes}; 0 while asleep
 * @param embeddingDimensions length of the vectors {@code /v1/embeddings} returns
 * @param wakeUpTime how long {@code POST /wake_up} takes before requests run again
 * @param exposeDeprecatedCacheMetric also expose {@code vllm:gpu_cache_usage_perc}, the name vLLM
 *     used before 0.10 and removed in 0.12 (what {@code --show-hidden-metrics-for-version} gave
 *     back in between)
 */
public record VllmSimulatorConfig(
    String host,
    int port,
    List<String> servedModelNames,
    Duration loadTime,
    double prefillTokensPerSecond,
    double decodeTokensPerSecond,
    int maxNumSeqs,
    int maxModelLen,
    int defaultMaxTokens,
    long kvCacheCapacityTokens,
    long gpuMemoryBytes,
    int embeddingDimensions,
    Duration wakeUpTime,
    boolean exposeDeprecatedCacheMetric) {

  public VllmSimulatorConfig {
    Objects.requireNonNull(host, "host");
    servedModelNames = List.copyOf(Objects.requireNonNull(servedModelNames, "servedModelNames"));
    Objects.requireNonNull(loadTime, "loadTime");
    Objects.requireNonNull(wakeUpTime, "wakeUpTime");
  }

  /**
   * One model named {@code sim-model} on a free loopback port, loaded after 1 s, 4,000 prompt
   * tokens/s and 50 output tokens/s per sequence, 16 sequences at once, 8,192-token context, 16
   * output tokens by default, a 100,000-token KV cache, 16 GiB of GPU memory.
   */
  public static VllmSimulatorConfig defaults() {
    return new VllmSimulatorConfig(
        "127.0.0.1",
        0,
        List.of("sim-model"),
        Duration.ofSeconds(1),
        4_000,
        50,
        16,
        8_192,
        16,
        100_000,
        16L * 1024 * 1024 * 1024,
        384,
        Duration.ZERO,
        false);
  }

  /**
   * Checks every setting and names the key of each violation.
   *
   * @return this, for chaining
   * @throws IllegalArgumentException listing all violations
   */
  public VllmSimulatorConfig validate() {
    List<String> errors = new ArrayList<>();
    if (host.isBlank()) {
      errors.add("host must not be blank");
    }
    if (port < 0 || port > 65535) {
      errors.add("port = " + port + ", must be in 0..65535");
    }
    if (servedModelNames.isEmpty()) {
      errors.add("servedModelNames must name at least one model");
    }
    if (servedModelNames.stream().anyMatch(String::isBlank)) {
      errors.add("servedModelNames = " + servedModelNames + ", must not contain blank names");
    }
    if (loadTime.isNegative()) {
      errors.add("loadTime = " + loadTime + ", must be >= 0");
    }
    if (!(prefillTokensPerSecond > 0) || Double.isInfinite(prefillTokensPerSecond)) {
      errors.add("prefillTokensPerSecond = " + prefillTokensPerSecond + ", must be positive");
    }
    if (!(decodeTokensPerSecond > 0) || Double.isInfinite(decodeTokensPerSecond)) {
      errors.add("decodeTokensPerSecond = " + decodeTokensPerSecond + ", must be positive");
    }
    if (maxNumSeqs < 1) {
      errors.add("maxNumSeqs = " + maxNumSeqs + ", must be at least 1");
    }
    if (maxModelLen < 2) {
      errors.add("maxModelLen = " + maxModelLen + ", must be at least 2");
    }
    if (defaultMaxTokens < 1) {
      errors.add("defaultMaxTokens = " + defaultMaxTokens + ", must be at least 1");
    }
    if (kvCacheCapacityTokens < 1) {
      errors.add("kvCacheCapacityTokens = " + kvCacheCapacityTokens + ", must be at least 1");
    }
    if (gpuMemoryBytes < 0) {
      errors.add("gpuMemoryBytes = " + gpuMemoryBytes + ", must be >= 0");
    }
    if (embeddingDimensions < 1) {
      errors.add("embeddingDimensions = " + embeddingDimensions + ", must be at least 1");
    }
    if (wakeUpTime.isNegative()) {
      errors.add("wakeUpTime = " + wakeUpTime + ", must be >= 0");
    }
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException("invalid vLLM simulator config: " + errors);
    }
    return this;
  }

  /** The name vLLM puts in the {@code model_name} label: the first served name. */
  public String primaryModelName() {
    return servedModelNames.get(0);
  }

  public VllmSimulatorConfig withPort(int v) {
    return new Builder(this).port(v).build();
  }

  public VllmSimulatorConfig withServedModelNames(List<String> v) {
    return new Builder(this).servedModelNames(v).build();
  }

  public VllmSimulatorConfig withLoadTime(Duration v) {
    return new Builder(this).loadTime(v).build();
  }

  public VllmSimulatorConfig withSpeeds(double prefillTokensPerSec, double decodeTokensPerSec) {
    return new Builder(this)
        .prefillTokensPerSecond(prefillTokensPerSec)
        .decodeTokensPerSecond(decodeTokensPerSec)
        .build();
  }

  public VllmSimulatorConfig withMaxNumSeqs(int v) {
    return new Builder(this).maxNumSeqs(v).build();
  }

  /** A builder starting from {@link #defaults()}. */
  public static Builder builder() {
    return new Builder(defaults());
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Builder over every key; {@link #build()} validates. */
  public static final class Builder {
    private String host;
    private int port;
    private List<String> servedModelNames;
    private Duration loadTime;
    private double prefillTokensPerSecond;
    private double decodeTokensPerSecond;
    private int maxNumSeqs;
    private int maxModelLen;
    private int defaultMaxTokens;
    private long kvCacheCapacityTokens;
    private long gpuMemoryBytes;
    private int embeddingDimensions;
    private Duration wakeUpTime;
    private boolean exposeDeprecatedCacheMetric;

    private Builder(VllmSimulatorConfig c) {
      host = c.host;
      port = c.port;
      servedModelNames = c.servedModelNames;
      loadTime = c.loadTime;
      prefillTokensPerSecond = c.prefillTokensPerSecond;
      decodeTokensPerSecond = c.decodeTokensPerSecond;
      maxNumSeqs = c.maxNumSeqs;
      maxModelLen = c.maxModelLen;
      defaultMaxTokens = c.defaultMaxTokens;
      kvCacheCapacityTokens = c.kvCacheCapacityTokens;
      gpuMemoryBytes = c.gpuMemoryBytes;
      embeddingDimensions = c.embeddingDimensions;
      wakeUpTime = c.wakeUpTime;
      exposeDeprecatedCacheMetric = c.exposeDeprecatedCacheMetric;
    }

    public Builder host(String v) {
      host = v;
      return this;
    }

    public Builder port(int v) {
      port = v;
      return this;
    }

    public Builder servedModelNames(List<String> v) {
      servedModelNames = v;
      return this;
    }

    public Builder loadTime(Duration v) {
      loadTime = v;
      return this;
    }

    public Builder prefillTokensPerSecond(double v) {
      prefillTokensPerSecond = v;
      return this;
    }

    public Builder decodeTokensPerSecond(double v) {
      decodeTokensPerSecond = v;
      return this;
    }

    public Builder maxNumSeqs(int v) {
      maxNumSeqs = v;
      return this;
    }

    public Builder maxModelLen(int v) {
      maxModelLen = v;
      return this;
    }

    public Builder defaultMaxTokens(int v) {
      defaultMaxTokens = v;
      return this;
    }

    public Builder kvCacheCapacityTokens(long v) {
      kvCacheCapacityTokens = v;
      return this;
    }

    public Builder gpuMemoryBytes(long v) {
      gpuMemoryBytes = v;
      return this;
    }

    public Builder embeddingDimensions(int v) {
      embeddingDimensions = v;
      return this;
    }

    public Builder wakeUpTime(Duration v) {
      wakeUpTime = v;
      return this;
    }

    public Builder exposeDeprecatedCacheMetric(boolean v) {
      exposeDeprecatedCacheMetric = v;
      return this;
    }

    public VllmSimulatorConfig build() {
      return new VllmSimulatorConfig(
              host,
              port,
              servedModelNames,
              loadTime,
              prefillTokensPerSecond,
              decodeTokensPerSecond,
              maxNumSeqs,
              maxModelLen,
              defaultMaxTokens,
              kvCacheCapacityTokens,
              gpuMemoryBytes,
              embeddingDimensions,
              wakeUpTime,
              exposeDeprecatedCacheMetric)
          .validate();
    }
  }
}
