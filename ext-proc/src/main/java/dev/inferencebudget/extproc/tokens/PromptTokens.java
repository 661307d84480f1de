package dev.inferencebudget.extproc.tokens;

import com.google.common.base.Utf8;
import dev.inferencebudget.extproc.openai.InferenceRequest;
import dev.inferencebudget.extproc.openai.InferenceRequest.ChatMessage;
import dev.inferencebudget.extproc.openai.OpenAiEndpoint;

/**
 * Prompt tokens of a request: {@link #upperBound} costs nothing (UTF-8 bytes plus the chat
 * template's overhead), {@link #exact} runs the tokenizer.
 */
public final class PromptTokens {
  private PromptTokens() {}

  /**
   * At least the prompt's tokens under any byte-level BPE tokenizer: each token covers one byte or
   * more, so a text has at most as many tokens as UTF-8 bytes.
   */
  public static long upperBound(InferenceRequest request, ChatFormat format) {
    long bound = request.promptUtf8Bytes() + request.tokenIds();
    if (request.endpoint() == OpenAiEndpoint.CHAT_COMPLETIONS) {
      bound += overhead(request, format);
    }
    return bound;
  }

  /** The prompt's tokens as {@code counter} counts them, with the chat template's overhead. */
  public static long exact(InferenceRequest request, TokenCounter counter) {
    long tokens = request.tokenIds();
    for (String text : request.texts()) {
      tokens += counter.count(text);
    }
    if (request.endpoint() == OpenAiEndpoint.CHAT_COMPLETIONS) {
      for (ChatMessage message : request.messages()) {
        tokens += counter.count(message.role());
        if (!message.name().isEmpty()) {
          tokens += counter.count(message.name());
        }
        for (String text : message.texts()) {
          tokens += counter.count(text);
        }
      }
      tokens += overhead(request, counter.chatFormat());
    }
    return tokens;
  }

  private static long overhead(InferenceRequest request, ChatFormat format) {
    long tokens = format.replyPrimingTokens();
    for (ChatMessage message : request.messages()) {
      tokens += format.perMessageTokens();
      if (!message.name().isEmpty()) {
        tokens += format.perNameTokens();
      }
    }
    return tokens;
  }

  /** UTF-8 length of a text; exposed for tests of the bound. */
  static long utf8Bytes(String text) {
    return Utf8.encodedLength(text);
  }
}
