package dev.inferencebudget.harness.vllm;

/**
 * A consistent snapshot of the simulated engine, the same figures {@code /metrics} exposes.
 *
 * @param loaded whether the model has finished loading
 * @param sleeping whether the engine is in sleep mode
 * @param runningSeqs sequences being processed ({@code vllm:num_requests_running})
 * @param waitingSeqs sequences waiting for a slot ({@code vllm:num_requests_waiting})
 * @param kvCacheUsage fraction of the KV cache in use, 0..1 ({@code vllm:kv_cache_usage_perc})
 * @param promptTokensTotal prompt tokens prefilled so far ({@code vllm:prompt_tokens_total})
 * @param generationTokensTotal output tokens generated so far ({@code
 *     vllm:generation_tokens_total})
 * @param finishedRequestsTotal requests finished for any reason, aborts included ({@code
 *     vllm:request_success_total} summed over {@code finished_reason})
 * @param abortedRequestsTotal requests finished with reason {@code abort}
 */
public record EngineStats(
    boolean loaded,
    boolean sleeping,
    int runningSeqs,
    int waitingSeqs,
    double kvCacheUsage,
    long promptTokensTotal,
    long generationTokensTotal,
    long finishedRequestsTotal,
    long abortedRequestsTotal) {}
