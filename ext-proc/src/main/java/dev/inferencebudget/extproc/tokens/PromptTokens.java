package dev.inferencebudget.extproc.tokens;

import com.google.common.base.Utf8;
import dev.inferencebudget.extproc.openai.InferenceRequest;
import dev.inferencebudget.extproc.openai.InferenceRequest.ChatMessage;
import dev.inferencebudget.extproc.openai.OpenAiEndpoint;
import java.util.ArrayList;
import java.util.List;

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
    return exact(request, counter, TokenCountCache.disabled());
  }

  /** {@link #exact(InferenceRequest, TokenCounter)}, with counts of long texts cached. */
  public static long exact(InferenceRequest request, TokenCounter counter, TokenCountCache cache) {
    long tokens = fixedTokens(request, counter.chatFormat());
    for (String text : textsOf(request)) {
      TokenCountCache.Key key = cache.key(counter.name(), text);
      TokenCountCache.Progress known = cache.get(key);
      if (known != null && known.complete()) {
        tokens += known.tokens();
        continue;
      }
      int[] ends = chunkEnds(text);
      int done = known == null ? 0 : known.chunks();
      long textTokens = known == null ? 0 : known.tokens();
      for (int c = done; c < ends.length; c++) {
        textTokens += counter.count(chunk(text, ends, c));
      }
      cache.put(key, new TokenCountCache.Progress(ends.length, textTokens, true));
      tokens += textTokens;
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

  /** {@link #countAgainst(InferenceRequest, TokenCounter, long, TokenCountCache)} without cache. */
  public static Count countAgainst(InferenceRequest request, TokenCounter counter, long limit) {
    return countAgainst(request, counter, limit, TokenCountCache.disabled());
  }

  /**
   * Counts the prompt against {@code limit}, stopping as soon as the answer is certain: once the
   * exact count so far plus the counter's {@link TokenCounter#upperBound} of what is left fits the
   * limit (the rest cannot push it over), or once the count so far exceeds it. Long texts are cut
   * before a space that follows a non-space, where the BPE pre-tokenizers (o200k, cl100k, Qwen's)
   * always start a new piece, so the pieces count as the whole would; a text with no such place is
   * counted whole. The bound is computed first and usually decides alone for prose; when counting
   * is needed, how far each long text was counted is kept in {@code cache} (its first chunks'
   * count), so a resent text resumes there: a conversation's earlier messages cost a hash.
   */
  public static Count countAgainst(
      InferenceRequest request, TokenCounter counter, long limit, TokenCountCache cache) {
    long counted = fixedTokens(request, counter.chatFormat());
    List<String> texts = textsOf(request);
    // The bound first: for prose it usually decides alone, and then nothing is hashed or counted.
    List<int[]> cuts = new ArrayList<>(texts.size());
    List<long[]> chunkBounds = new ArrayList<>(texts.size());
    long[] textBounds = new long[texts.size()];
    long uncountedBound = 0;
    for (int t = 0; t < texts.size(); t++) {
      String text = texts.get(t);
      int[] ends = chunkEnds(text);
      long[] bounds = new long[ends.length];
      int start = 0;
      for (int c = 0; c < ends.length; c++) {
        bounds[c] = counter.upperBound(text, start, ends[c]);
        textBounds[t] += bounds[c];
        start = ends[c];
      }
      cuts.add(ends);
      chunkBounds.add(bounds);
      uncountedBound += textBounds[t];
    }
    if (uncountedBound > 0 && counted + uncountedBound <= limit) {
      return new Count(counted + uncountedBound, Kind.AT_MOST);
    }
    for (int t = 0; t < texts.size(); t++) {
      String text = texts.get(t);
      int[] ends = cuts.get(t);
      long[] bounds = chunkBounds.get(t);
      uncountedBound -= textBounds[t];
      TokenCountCache.Key key = cache.key(counter.name(), text);
      TokenCountCache.Progress known = cache.get(key);
      int done = known == null ? 0 : known.chunks();
      int c = done;
      long textTokens = known == null ? 0 : known.tokens();
      long textBoundLeft = textBounds[t];
      for (int k = 0; k < done; k++) {
        textBoundLeft -= bounds[k];
      }
      Count decided = null;
      while (c < ends.length) {
        if (counted + textTokens > limit) {
          decided = new Count(counted + textTokens, Kind.AT_LEAST);
          break;
        }
        long atMost = counted + textTokens + textBoundLeft + uncountedBound;
        if (atMost <= limit) {
          decided = new Count(atMost, Kind.AT_MOST);
          break;
        }
        textTokens += counter.count(chunk(text, ends, c));
        textBoundLeft -= bounds[c];
        c++;
      }
      if (c > done) {
        cache.put(key, new TokenCountCache.Progress(c, textTokens, c == ends.length));
      }
      if (decided != null) {
        return decided;
      }
      counted += textTokens;
      if (counted > limit) {
        return new Count(counted, Kind.AT_LEAST);
      }
    }
    return new Count(counted, Kind.EXACT);
  }

  private static String chunk(String text, int[] ends, int c) {
    if (ends.length == 1) {
      return text;
    }
    return text.substring(c == 0 ? 0 : ends[c - 1], ends[c]);
  }

  /**
   * Every text of the prompt in order: prompts/inputs, tool definitions, then each message's role,
   * name, parts.
   */
  private static List<String> textsOf(InferenceRequest request) {
    List<String> texts = new ArrayList<>(request.texts());
    texts.addAll(request.tools());
    if (request.endpoint() == OpenAiEndpoint.CHAT_COMPLETIONS) {
      for (ChatMessage message : request.messages()) {
        texts.add(message.role());
        if (!message.name().isEmpty()) {
          texts.add(message.name());
        }
        texts.addAll(message.texts());
      }
    }
    return texts;
  }

  /** Token ids given as numbers, and the chat template's overhead. */
  private static long fixedTokens(InferenceRequest request, ChatFormat format) {
    long tokens = request.tokenIds();
    if (request.endpoint() == OpenAiEndpoint.CHAT_COMPLETIONS) {
      tokens += overhead(request, format);
    }
    return tokens;
  }

  /** Where the chunks of {@code text} end (the last end is its length). */
  static int[] chunkEnds(String text) {
    if (text.length() <= CHUNK_CHARS) {
      return new int[] {text.length()};
    }
    int[] ends = new int[text.length() / (CHUNK_CHARS / 2) + 1];
    int n = 0;
    int start = 0;
    while (start < text.length()) {
      int end = chunkEnd(text, start);
      ends[n++] = end;
      start = end;
    }
    return java.util.Arrays.copyOf(ends, n);
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
    // No safe place: a cut inside a pre-tokenizer piece could change the count, so the rest is
    // counted whole (and cannot stop early).
    return text.length();
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
