package dev.inferencebudget.extproc.tokens;

/** Counts the tokens of a text exactly, under one tokenizer. Thread-safe. */
public interface TokenCounter {

  /** The tokenizer's name ({@code o200k_base}, {@code qwen3}, ...). */
  String name();

  /** Tokens of {@code text}, special-token markers counted as ordinary text. */
  long count(String text);

  /**
   * At least {@link #count} of {@code text.subSequence(start, end)}, for far less work than
   * counting. This default is the UTF-8 length: a byte-level BPE token covers one byte or more.
   */
  default long upperBound(CharSequence text, int start, int end) {
    return utf8Bytes(text, start, end);
  }

  /** Overheads of the chat template that goes with this tokenizer. */
  ChatFormat chatFormat();

  /** UTF-8 length of a range (a lone surrogate counted as 2, where Java writes a 1-byte '?'). */
  static long utf8Bytes(CharSequence text, int start, int end) {
    long bytes = 0;
    for (int i = start; i < end; i++) {
      char c = text.charAt(i);
      bytes += c < 0x80 ? 1 : c < 0x800 || Character.isSurrogate(c) ? 2 : 3;
    }
    return bytes;
  }
}
