/**
 * Prompt token counts: a free upper bound from UTF-8 length (a byte-level BPE token covers at least
 * one byte), and exact counts with jtokkit encodings or a model's own Hugging Face tokenizer when
 * the bound cannot decide.
 */
package dev.inferencebudget.extproc.tokens;
