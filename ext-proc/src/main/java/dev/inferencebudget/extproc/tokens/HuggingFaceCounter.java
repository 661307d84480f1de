package dev.inferencebudget.extproc.tokens;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A model's own {@code tokenizer.json} through DJL's binding of Hugging Face tokenizers. Loading
 * takes about a second, so {@link Tokenizers} does it once, off the request path.
 */
public final class HuggingFaceCounter implements TokenCounter, AutoCloseable {
  private final String name;
  private final HuggingFaceTokenizer tokenizer;
  private final ChatFormat chatFormat;

  private HuggingFaceCounter(String name, HuggingFaceTokenizer tokenizer, ChatFormat chatFormat) {
    this.name = name;
    this.tokenizer = tokenizer;
    this.chatFormat = chatFormat;
  }

  /**
   * Loads {@code tokenizerJson}. Truncation is off: a bare tokenizer.json otherwise truncates at
   * 512 tokens, and a count must see the whole prompt.
   */
  public static HuggingFaceCounter load(String name, Path tokenizerJson, ChatFormat chatFormat)
      throws IOException {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(chatFormat, "chatFormat");
    HuggingFaceTokenizer tokenizer =
        HuggingFaceTokenizer.builder()
            .optTokenizerPath(tokenizerJson)
            .optTruncation(false)
            .optAddSpecialTokens(false)
            .optPadding(false)
            .build();
    return new HuggingFaceCounter(name, tokenizer, chatFormat);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public long count(String text) {
    if (text.isEmpty()) {
      return 0;
    }
    // DJL's encode() builds a full Encoding (token strings, offsets, masks): about 2 µs per token
    // of garbage. Only the ids are needed, so ask the native library for them directly (the
    // truncation and special-token settings live in the native tokenizer handle).
    long encoding = TokenizersLibrary.LIB.encode(tokenizer.getHandle(), text, false);
    try {
      return TokenizersLibrary.LIB.getTokenIds(encoding).length;
    } finally {
      TokenizersLibrary.LIB.deleteEncoding(encoding);
    }
  }

  @Override
  public ChatFormat chatFormat() {
    return chatFormat;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
