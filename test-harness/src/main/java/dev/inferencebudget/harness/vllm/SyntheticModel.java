package dev.inferencebudget.harness.vllm;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.SplittableRandom;

/**
 * What stands in for the model's tokenizer and weights: deterministic token counts, output text and
 * embedding vectors.
 *
 * <p>Prompt tokens are approximated, not tokenized: a text counts {@code ceil(UTF-8 bytes / 4)}
 * tokens (the usual rule of thumb for English with a byte-level BPE vocabulary). A count never
 * exceeds the byte count, so a byte-based upper bound (as ext-proc uses) stays an upper bound. A
 * chat prompt adds what a chat template adds: {@value #CHAT_TOKENS_PER_MESSAGE} tokens per message
 * (role and delimiters) and {@value #CHAT_PRIMING_TOKENS} for the assistant turn that the template
 * opens. Token id arrays count one token per id. A real tokenizer is not used because none is in
 * the harness's dependencies and the system must not depend on the exact figure, only on the
 * server's {@code usage}.
 */
final class SyntheticModel {
  static final int CHAT_TOKENS_PER_MESSAGE = 4;
  static final int CHAT_PRIMING_TOKENS = 3;

  private static final String[] WORDS = {
    "The",
    " quick",
    " brown",
    " fox",
    " jumps",
    " over",
    " the",
    " lazy",
    " dog",
    ".",
    " A",
    " simulated",
    " model",
    " writes",
    " one",
    " word",
    " per",
    " token",
    ",",
    " and",
    " never",
    " tires",
    "."
  };

  private SyntheticModel() {}

  /** Approximate token count of a text. */
  static int textTokens(String text) {
    int bytes = text.getBytes(StandardCharsets.UTF_8).length;
    return (bytes + 3) / 4;
  }

  /**
   * Prompt tokens of chat {@code messages}. Content may be a string or an array of parts, of which
   * the {@code text} parts count.
   *
   * @throws IllegalArgumentException if a message is not an object
   */
  static int chatPromptTokens(JsonArray messages) {
    int tokens = CHAT_PRIMING_TOKENS;
    for (Object m : messages) {
      if (!(m instanceof JsonObject message)) {
        throw new IllegalArgumentException("messages: each message must be an object");
      }
      tokens += CHAT_TOKENS_PER_MESSAGE;
      Object content = message.getValue("content");
      if (content instanceof String s) {
        tokens += textTokens(s);
      } else if (content instanceof JsonArray parts) {
        for (Object p : parts) {
          if (p instanceof JsonObject part && part.getValue("text") instanceof String text) {
            tokens += textTokens(text);
          }
        }
      }
    }
    return tokens;
  }

  /**
   * Tokens of one completion or embedding input: a string, or an array of token ids.
   *
   * @throws IllegalArgumentException for anything else
   */
  static int inputTokens(Object input) {
    if (input instanceof String s) {
      return Math.max(1, textTokens(s));
    }
    if (input instanceof JsonArray ids && ids.stream().allMatch(i -> i instanceof Number)) {
      return ids.size();
    }
    throw new IllegalArgumentException("input must be a string or an array of token ids");
  }

  /** The text of output tokens {@code [from, from + count)}, the same for every request. */
  static String outputText(int from, int count) {
    StringBuilder sb = new StringBuilder();
    for (int i = from; i < from + count; i++) {
      sb.append(WORDS[i % WORDS.length]);
    }
    return sb.toString();
  }

  /** A unit vector that depends only on the input, so equal inputs embed equally. */
  static float[] embedding(String input, int dimensions) {
    SplittableRandom random = new SplittableRandom(seed(input));
    float[] v = new float[dimensions];
    double norm = 0;
    for (int i = 0; i < dimensions; i++) {
      v[i] = (float) (random.nextDouble() * 2 - 1);
      norm += v[i] * v[i];
    }
    float scale = (float) (1 / Math.sqrt(norm));
    for (int i = 0; i < dimensions; i++) {
      v[i] *= scale;
    }
    return v;
  }

  private static long seed(String input) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(input.getBytes(StandardCharsets.UTF_8));
      long seed = 0;
      for (int i = 0; i < 8; i++) {
        seed = (seed << 8) | (digest[i] & 0xff);
      }
      return seed;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }
}
