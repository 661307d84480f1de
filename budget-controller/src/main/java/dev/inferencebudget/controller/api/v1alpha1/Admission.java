package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.inferencebudget.controller.api.GoDurations;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import java.time.Duration;

/**
 * Admission at the proxy (ext-proc) for the model's requests. Absent limits mean unlimited.
 *
 * @param maxPromptTokens the longest prompt in tokens; longer ones get 400 {@code
 *     context_length_exceeded}
 * @param maxCompletionTokens the largest {@code max_tokens} / {@code max_completion_tokens} a
 *     request may ask for
 * @param maxTokensPolicy what happens to a request asking for more: {@code Reject} (default) or
 *     {@code Clamp}
 * @param tokensPerMinute tokens (prompt + completion) per minute per tenant key
 * @param requestsPerMinute requests per minute per tenant key
 * @param tenantHeader the request header that identifies the tenant key (default {@code
 *     authorization}; ext-proc keeps only a hash)
 * @param queueLength how many requests may wait when the replicas are at their concurrency target
 *     (default 100)
 * @param queueWait the longest a request waits in that queue before a 503 (default {@code 30s})
 * @param tokenizer how prompt tokens are counted when the byte-length bound cannot decide (default
 *     tiktoken {@code o200k_base})
 * @param imageTokens prompt tokens one image content part ({@code image_url}) costs; absent:
 *     ext-proc's default (765, OpenAI's high-detail cost). At least 1: on the wire 0 means "the
 *     default", so free images cannot be expressed and are not accepted
 * @param audioTokens prompt tokens one audio content part ({@code input_audio}, {@code audio_url})
 *     costs; absent: ext-proc's default (750, about 30 s); at least 1 for the same reason
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Admission(
    @Min(1) @JsonPropertyDescription("The longest prompt, in tokens.") Integer maxPromptTokens,
    @Min(1)
        @JsonPropertyDescription(
            "The largest max_tokens / max_completion_tokens a request may ask for.")
        Integer maxCompletionTokens,
    @Default(Defaults.MAX_TOKENS_POLICY)
        @JsonPropertyDescription(
            "Reject: answer 400 when a request asks for more than maxCompletionTokens. Clamp: lower it to the limit.")
        MaxTokensPolicy maxTokensPolicy,
    @Min(1)
        @JsonPropertyDescription(
            "Tokens (prompt + completion) per minute per tenant key; absent is unlimited.")
        Long tokensPerMinute,
    @Min(1) @JsonPropertyDescription("Requests per minute per tenant key; absent is unlimited.")
        Integer requestsPerMinute,
    @Size(min = 1, max = 128)
        @Pattern(Patterns.HEADER_NAME)
        @Default(Defaults.TENANT_HEADER)
        @JsonPropertyDescription(
            "The request header (lower case) that identifies the tenant key; ext-proc keeps only its hash.")
        String tenantHeader,
    @Min(0)
        @Default("" + Defaults.QUEUE_LENGTH)
        @JsonPropertyDescription(
            "How many requests may wait when the replicas are saturated; more get 429.")
        Integer queueLength,
    @Pattern(GoDurations.PATTERN)
        @Default(Defaults.QUEUE_WAIT)
        @JsonPropertyDescription(
            "The longest a request waits in the queue before a 503 (Go duration).")
        String queueWait,
    @Default("{}")
        @JsonPropertyDescription(
            "How prompt tokens are counted when the byte-length bound cannot decide (default: tiktoken o200k_base).")
        Tokenizer tokenizer,
    @Min(1)
        @JsonPropertyDescription(
            "Prompt tokens one image content part (image_url) costs; absent: ext-proc's default (765).")
        Long imageTokens,
    @Min(1)
        @JsonPropertyDescription(
            "Prompt tokens one audio content part (input_audio, audio_url) costs; absent: ext-proc's default (750).")
        Long audioTokens) {

  public static final Admission DEFAULTS =
      new Admission(null, null, null, null, null, null, null, null, null, null, null);

  public Admission {
    maxTokensPolicy = maxTokensPolicy == null ? MaxTokensPolicy.REJECT : maxTokensPolicy;
    tenantHeader = tenantHeader == null ? Defaults.TENANT_HEADER : tenantHeader;
    queueLength = queueLength == null ? Defaults.QUEUE_LENGTH : queueLength;
    queueWait = queueWait == null ? Defaults.QUEUE_WAIT : queueWait;
    tokenizer = tokenizer == null ? Tokenizer.DEFAULTS : tokenizer;
  }

  public Duration queueWaitDuration() {
    return GoDurations.parse(queueWait, "spec.admission.queueWait");
  }
}
