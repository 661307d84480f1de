package dev.inferencebudget.harness.replay;

import java.util.Objects;

/**
 * One request the replay will send.
 *
 * @param index position in the window, from 0
 * @param model index of the model in the fleet (Zipf rank)
 * @param modelName the OpenAI {@code model} value
 * @param traceOffsetMicros arrival after the window's start, in trace time (stretched)
 * @param wallOffsetNanos arrival after the replay's start, in wall time
 * @param promptTokens prompt length sent (the trace's, capped)
 * @param completionTokens {@code max_tokens} sent (the trace's, capped, at least 1)
 * @param capped whether either length was capped
 */
public record PlannedRequest(
    int index,
    int model,
    String modelName,
    long traceOffsetMicros,
    long wallOffsetNanos,
    int promptTokens,
    int completionTokens,
    boolean capped) {
  public PlannedRequest {
    Objects.requireNonNull(modelName, "modelName");
    if (index < 0 || model < 0 || traceOffsetMicros < 0 || wallOffsetNanos < 0) {
      throw new IllegalArgumentException("index, model and offsets must be >= 0");
    }
    if (promptTokens < 1 || completionTokens < 1) {
      throw new IllegalArgumentException("token counts must be >= 1");
    }
  }
}
