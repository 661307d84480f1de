package dev.inferencebudget.extproc.openai;

import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Optional;

/**
 * Finds the {@code usage} of a response as its body streams past in chunks split anywhere, without
 * holding the body. The last usage seen wins (vLLM's continuous usage stats repeat it per chunk).
 */
public interface UsageScanner {

  /** Reads the next chunk of the body. Never throws on bad input: it just finds no usage. */
  void accept(ByteBuffer chunk);

  /** The body has ended: completes a last line or document that had no terminator. */
  default void finish() {}

  /** The usage found so far. */
  Optional<Usage> usage();

  /**
   * A scanner for a response with this {@code content-type}: SSE for {@code text/event-stream},
   * JSON for {@code application/json}, none otherwise (or when the body is compressed).
   */
  static UsageScanner forResponse(String contentType, String contentEncoding) {
    if (contentEncoding != null
        && !contentEncoding.isEmpty()
        && !contentEncoding.equalsIgnoreCase("identity")) {
      return NONE;
    }
    String type = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
    if (type.startsWith("text/event-stream")) {
      return new SseUsageScanner();
    }
    if (type.startsWith("application/json")) {
      return new JsonUsageScanner();
    }
    return NONE;
  }

  /** Reads nothing, finds nothing. */
  UsageScanner NONE =
      new UsageScanner() {
        @Override
        public void accept(ByteBuffer chunk) {}

        @Override
        public Optional<Usage> usage() {
          return Optional.empty();
        }
      };
}
