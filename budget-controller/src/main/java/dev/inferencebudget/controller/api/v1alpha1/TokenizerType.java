package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Which tokenizer ext-proc counts prompt tokens with when the byte-length bound cannot decide. */
public enum TokenizerType {
  /** A tiktoken encoding (jtokkit), vocabulary shipped with ext-proc. */
  @JsonProperty("Tiktoken")
  TIKTOKEN,

  /** The model's own Hugging Face {@code tokenizer.json} (DJL), read from {@code path}. */
  @JsonProperty("HuggingFace")
  HUGGING_FACE
}
