package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The tiktoken encodings ext-proc ships. */
public enum TiktokenEncoding {
  /** GPT-3. */
  @JsonProperty("r50k_base")
  R50K_BASE,

  /** Codex. */
  @JsonProperty("p50k_base")
  P50K_BASE,

  /** GPT-3.5 and GPT-4. */
  @JsonProperty("cl100k_base")
  CL100K_BASE,

  /** GPT-4o and later. */
  @JsonProperty("o200k_base")
  O200K_BASE
}
