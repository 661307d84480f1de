package dev.inferencebudget.harness.fleet;

import java.time.Duration;
import java.util.Objects;

/**
 * A simulated model: what a replica costs and how fast it serves.
 *
 * <p>Service model: a replica serves up to {@code maxConcurrency} requests at once (continuous
 * batching); each takes {@code contextTokens / prefillTokensPerSecond + generatedTokens /
 * decodeTokensPerSecond}, the per-stream rates of a batched server, which stay near-constant up to
 * its concurrency limit. Requests beyond the limit wait in a FIFO queue per model (an M/G/c queue
 * per model, with c = ready replicas × maxConcurrency).
 *
 * @param name the model name (as in a BudgetedModel's {@code spec.modelNames})
 * @param gpuMemoryPerReplicaBytes GPU memory one replica reserves from the budget
 * @param priority higher wins budget contention
 * @param loadTime from replica start to ready (the cold start)
 * @param prefillTokensPerSecond prompt tokens processed per second for one request
 * @param decodeTokensPerSecond completion tokens generated per second for one request
 * @param maxConcurrency requests one replica serves at once
 * @param maxReplicas the model's {@code spec.replicas.max}
 */
public record ModelProfile(
    String name,
    long gpuMemoryPerReplicaBytes,
    int priority,
    Duration loadTime,
    double prefillTokensPerSecond,
    double decodeTokensPerSecond,
    int maxConcurrency,
    int maxReplicas) {
  public ModelProfile {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(loadTime, "loadTime");
    if (gpuMemoryPerReplicaBytes <= 0) {
      throw new IllegalArgumentException(name + ": gpuMemoryPerReplicaBytes must be > 0");
    }
    if (loadTime.isNegative()) {
      throw new IllegalArgumentException(name + ": loadTime must be >= 0");
    }
    if (!(prefillTokensPerSecond > 0) || !(decodeTokensPerSecond > 0)) {
      throw new IllegalArgumentException(name + ": token rates must be > 0");
    }
    if (maxConcurrency < 1 || maxReplicas < 1) {
      throw new IllegalArgumentException(name + ": maxConcurrency and maxReplicas must be >= 1");
    }
  }

  /** How long one request occupies a replica slot, in microseconds. */
  public long serviceMicros(int contextTokens, int generatedTokens) {
    double seconds =
        contextTokens / prefillTokensPerSecond + generatedTokens / decodeTokensPerSecond;
    return Math.max(1, Math.round(seconds * 1_000_000));
  }
}
