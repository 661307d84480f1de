package dev.inferencebudget.extproc.openai;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A refusal, as OpenAI would phrase it. One function ({@code EnvoyResponses.immediate}) turns it
 * into an Envoy ImmediateResponse.
 *
 * @param status HTTP status
 * @param code OpenAI {@code error.code}; also the metrics reason
 * @param type OpenAI {@code error.type}
 * @param param OpenAI {@code error.param}
 * @param retryAfter sent as {@code retry-after} (whole seconds, rounded up)
 * @param headers extra response headers (e.g. {@code x-ratelimit-*}), lowercase names
 */
public record AdmissionError(
    int status,
    String code,
    String type,
    String message,
    Optional<String> param,
    Optional<Duration> retryAfter,
    Map<String, String> headers) {

  public static final String INVALID_REQUEST = "invalid_request_error";

  public AdmissionError {
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(param, "param");
    Objects.requireNonNull(retryAfter, "retryAfter");
    headers = Map.copyOf(new LinkedHashMap<>(headers));
    if (status < 200 || status > 599) {
      throw new IllegalArgumentException("status " + status + " is not an HTTP error status");
    }
  }

  public static AdmissionError invalidRequest(String message, String param, String code) {
    return new AdmissionError(
        400,
        code,
        INVALID_REQUEST,
        message,
        Optional.ofNullable(param),
        Optional.empty(),
        Map.of());
  }

  public static AdmissionError modelNotFound(String model) {
    return new AdmissionError(
        404,
        "model_not_found",
        INVALID_REQUEST,
        "The model `" + model + "` does not exist or you do not have access to it.",
        Optional.of("model"),
        Optional.empty(),
        Map.of());
  }

  /**
   * @param atLeast counting stopped once the prompt exceeded the limit: it has at least that many
   */
  public static AdmissionError contextLengthExceeded(
      long promptTokens, boolean atLeast, long maxPromptTokens) {
    return new AdmissionError(
        400,
        "context_length_exceeded",
        INVALID_REQUEST,
        "This model's maximum prompt length is "
            + maxPromptTokens
            + " tokens. However, your prompt has "
            + (atLeast ? "at least " : "")
            + promptTokens
            + " tokens. Please reduce the length of the prompt.",
        Optional.of("messages"),
        Optional.empty(),
        Map.of());
  }

  /** 503 for a request that waited too long or cannot be served now. */
  public static AdmissionError unavailable(String code, String message, Duration retryAfter) {
    return new AdmissionError(
        503, code, "server_error", message, Optional.empty(), Optional.of(retryAfter), Map.of());
  }

  /** 429 that is not about the tenant's own rate (queue or hold capacity). */
  public static AdmissionError overloaded(String code, String message, Duration retryAfter) {
    return new AdmissionError(
        429, code, "requests", message, Optional.empty(), Optional.of(retryAfter), Map.of());
  }

  /** The same error with its {@code message} replaced. */
  public AdmissionError withMessage(String newMessage) {
    return new AdmissionError(status, code, type, newMessage, param, retryAfter, headers);
  }
}
