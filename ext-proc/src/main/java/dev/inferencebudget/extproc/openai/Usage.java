package dev.inferencebudget.extproc.openai;

/** The {@code usage} a backend reported: prompt and completion tokens. */
public record Usage(long promptTokens, long completionTokens) {
  public Usage {
    if (promptTokens < 0 || completionTokens < 0) {
      throw new IllegalArgumentException("token counts must not be negative");
    }
  }

  public long totalTokens() {
    return promptTokens + completionTokens;
  }
}
