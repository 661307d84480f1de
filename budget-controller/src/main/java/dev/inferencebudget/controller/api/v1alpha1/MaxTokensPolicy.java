package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * What ext-proc does with a request whose {@code max_tokens} exceeds {@code maxCompletionTokens}.
 */
public enum MaxTokensPolicy {
  /** Lower {@code max_tokens} to the limit and forward the request. */
  @JsonProperty("Clamp")
  CLAMP,

  /** Answer 400 with an OpenAI error body, as OpenAI does. */
  @JsonProperty("Reject")
  REJECT
}
