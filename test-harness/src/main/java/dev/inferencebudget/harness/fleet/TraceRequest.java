package dev.inferencebudget.harness.fleet;

/**
 * One request of a trace: when it arrives, relative to the trace's first request, and its token
 * counts.
 *
 * @param offsetMicros arrival time in microseconds after the trace's first request (not stretched)
 * @param contextTokens prompt length in tokens
 * @param generatedTokens completion length in tokens
 */
public record TraceRequest(long offsetMicros, int contextTokens, int generatedTokens) {
  public TraceRequest {
    if (offsetMicros < 0) {
      throw new IllegalArgumentException("offsetMicros = " + offsetMicros + ", must be >= 0");
    }
    if (contextTokens < 0 || generatedTokens < 0) {
      throw new IllegalArgumentException(
          "token counts must be >= 0, got " + contextTokens + "/" + generatedTokens);
    }
  }
}
