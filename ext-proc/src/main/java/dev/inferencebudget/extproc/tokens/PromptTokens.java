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

  /** A count against a limit: exact, or a bound that already decides the limit. */
  public record Count(long tokens, Kind kind) {
    /** Whether the prompt fits the limit it was counted against. */
    public boolean fits(long limit) {
      return kind != Kind.AT_LEAST && tokens <= limit;
    }
  }

  /** How {@link Count#tokens} relates to the true count. */
  public enum Kind {
    EXACT,
    /** An upper bound at or below the limit: counting stopped once the rest could not exceed it. */
    AT_MOST,
    /** A lower bound above the limit: counting stopped once the prompt exceeded it. */
    AT_LEAST
  }

  /** Texts longer than this are counted in pieces so counting can stop early. */
  static final int CHUNK_CHARS = 16 * 1024;

  /**
   * Counts the prompt against {@code limit}, stopping as soon as the answer is certain: once the
   * exact count so far plus the UTF-8 length of what is left fits the limit (the rest cannot push
   * it over), or once the count so far exceeds it. Long texts are cut before a space that follows a
   * non-space, where byte-level BPE pre-tokenizers split anyway, so the pieces count as the whole
   * would.
   */
  public static Count countAgainst(InferenceRequest request, TokenCounter counter, long limit) {
    long counted = request.tokenIds();
    long uncountedBytes = request.promptUtf8Bytes();
    if (request.endpoint() == OpenAiEndpoint.CHAT_COMPLETIONS) {
      counted += overhead(request, counter.chatFormat());
    }
    java.util.List<String> pieces = new java.util.ArrayList<>(request.texts());
    if (request.endpoint() == OpenAiEndpoint.CHAT_COMPLETIONS) {
      for (ChatMessage message : request.messages()) {
        pieces.add(message.role());
        if (!message.name().isEmpty()) {
          pieces.add(message.name());
        }
        pieces.addAll(message.texts());
      }
    }
    for (String piece : pieces) {
      int start = 0;
      while (start < piece.length()) {
        int end = chunkEnd(piece, start);
        String chunk = start == 0 && end == piece.length() ? piece : piece.substring(start, end);
        counted += counter.count(chunk);
        uncountedBytes -= Utf8.encodedLength(chunk);
        start = end;
        if (counted > limit) {
          return new Count(counted, Kind.AT_LEAST);
        }
        if (uncountedBytes > 0 && counted + uncountedBytes <= limit) {
          return new Count(counted + uncountedBytes, Kind.AT_MOST);
        }
      }
    }
    return new Count(counted, Kind.EXACT);
  }

  private static int chunkEnd(String text, int start) {
    int end = start + CHUNK_CHARS;
    if (end >= text.length()) {
      return text.length();
    }
    for (int i = end; i > start + CHUNK_CHARS / 2; i--) {
      if (text.charAt(i) == ' ' && !Character.isWhitespace(text.charAt(i - 1))) {
        return i;
      }
    }
    return Character.isHighSurrogate(text.charAt(end - 1)) ? end - 1 : end;
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
