package dev.inferencebudget.extproc.tokens;

/** Counts the tokens of a text exactly, under one tokenizer. Thread-safe. */
public interface TokenCounter {

  /** The tokenizer's name ({@code o200k_base}, {@code qwen3}, ...). */
  String name();

  /** Tokens of {@code text}, special-token markers counted as ordinary text. */
  long count(String text);

  /** Overheads of the chat template that goes with this tokenizer. */
  ChatFormat chatFormat();
}
