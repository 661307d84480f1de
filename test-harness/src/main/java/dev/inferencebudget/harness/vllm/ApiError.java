package dev.inferencebudget.harness.vllm;

import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * An error as vLLM's OpenAI server returns it: {@code {"error": {"message", "type", "param",
 * "code"}}}, with the HTTP status repeated as the integer {@code code} ({@code ErrorResponse} in
 * {@code vllm/entrypoints/openai/engine/protocol.py}).
 *
 * @param status HTTP status
 * @param type vLLM's error type ({@code BadRequestError}, {@code NotFoundError}, ...)
 * @param message human-readable message
 * @param param the request field at fault, or null
 */
record ApiError(int status, String type, String message, String param) {
  ApiError {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(message, "message");
  }

  static ApiError badRequest(String message) {
    return new ApiError(400, "BadRequestError", message, null);
  }

  static ApiError badRequest(String message, String param) {
    return new ApiError(400, "BadRequestError", message, param);
  }

  /** vLLM's answer to a {@code model} it does not serve. */
  static ApiError modelNotFound(String model) {
    return new ApiError(404, "NotFoundError", "The model `" + model + "` does not exist.", "model");
  }

  /** The simulator's answer while the model loads (a real vLLM is not listening yet). */
  static ApiError notLoaded() {
    return new ApiError(503, "ServiceUnavailableError", "The model is still loading.", null);
  }

  JsonObject toJson() {
    return new JsonObject()
        .put(
            "error",
            new JsonObject()
                .put("message", message)
                .put("type", type)
                .put("param", param)
                .put("code", status));
  }

  /** Thrown while parsing a request; mapped to the response in one place. */
  static final class Exception extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient ApiError error;

    Exception(ApiError error) {
      super(error.message(), null, false, false);
      this.error = error;
    }

    ApiError error() {
      return error;
    }
  }
}
