package dev.inferencebudget.extproc.flow;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where an admitted request goes and what changes on the way.
 *
 * @param modelKey the model's key (the routing header's value)
 * @param endpoint the picked {@code ip:port} in endpoint-picker mode
 * @param rewrittenBody the body with {@code max_tokens} clamped or added, if it changed
 */
public record Route(String modelKey, Optional<String> endpoint, Optional<byte[]> rewrittenBody) {
  public Route {
    Objects.requireNonNull(modelKey, "modelKey");
    Objects.requireNonNull(endpoint, "endpoint");
    Objects.requireNonNull(rewrittenBody, "rewrittenBody");
  }

  /** Headers to set on the request besides the routing header. */
  public Map<String, String> extraHeaders() {
    return rewrittenBody
        .map(b -> Map.of("content-length", Integer.toString(b.length)))
        .orElse(Map.of());
  }
}
