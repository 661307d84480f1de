package dev.inferencebudget.extproc.tokens;

import com.knuddels.jtokkit.api.Encoding;
import java.util.Objects;

/** An OpenAI encoding from jtokkit (vocabularies ship inside its jar). */
public final class JtokkitCounter implements TokenCounter {
  private final Encoding encoding;

  public JtokkitCounter(Encoding encoding) {
    this.encoding = Objects.requireNonNull(encoding, "encoding");
  }

  @Override
  public String name() {
    return encoding.getName();
  }

  @Override
  public long count(String text) {
    // Ordinary: text that spells "<|endoftext|>" is a prompt, not a control token (and the
    // non-ordinary variant throws on it).
    return encoding.countTokensOrdinary(text);
  }

  @Override
  public ChatFormat chatFormat() {
    return ChatFormat.OPENAI;
  }
}
