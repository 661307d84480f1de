package dev.inferencebudget.extproc.tokens;

/**
 * Tokens a chat template adds around the messages: per message (start/end markers and separators),
 * per {@code name}, and once to prime the reply.
 */
public record ChatFormat(int perMessageTokens, int perNameTokens, int replyPrimingTokens) {

  /** OpenAI's chat format as counted in the OpenAI cookbook for gpt-4o and gpt-4. */
  public static final ChatFormat OPENAI = new ChatFormat(3, 1, 3);

  /**
   * ChatML as Qwen uses it: {@code <|im_start|>role\ncontent<|im_end|>\n} is four tokens besides
   * the role, and {@code <|im_start|>assistant\n} primes the reply.
   */
  public static final ChatFormat CHATML = new ChatFormat(4, 1, 3);

  public ChatFormat {
    if (perMessageTokens < 0 || perNameTokens < 0 || replyPrimingTokens < 0) {
      throw new IllegalArgumentException("chat format overheads must not be negative");
    }
  }
}
