package dev.inferencebudget.extproc.tokens;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
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
    return tokenizer.encode(text, false, false).getIds().length;
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
