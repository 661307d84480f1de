package dev.inferencebudget.extproc.flow;

import dev.inferencebudget.extproc.openai.InferenceRequest.ByteSpan;
import java.nio.charset.StandardCharsets;

/**
 * Splices a new {@code max_tokens} into a body without re-serialising it: the parser recorded where
 * the value sits, so clamping replaces those bytes and capping an absent field inserts one after
 * the opening brace.
 */
final class BodyRewrite {
  private BodyRewrite() {}

  static byte[] replace(byte[] body, ByteSpan span, long value) {
    byte[] digits = Long.toString(value).getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[body.length - (span.end() - span.start()) + digits.length];
    System.arraycopy(body, 0, out, 0, span.start());
    System.arraycopy(digits, 0, out, span.start(), digits.length);
    System.arraycopy(body, span.end(), out, span.start() + digits.length, body.length - span.end());
    return out;
  }

  /** Inserts {@code "max_tokens":value,} right after the first {@code {} of the body. */
  static byte[] insertMaxTokens(byte[] body, long value) {
    int brace = 0;
    while (brace < body.length && body[brace] != '{') {
      brace++;
    }
    boolean empty = isEmptyObject(body, brace);
    byte[] field =
        ("\"max_tokens\":" + value + (empty ? "" : ",")).getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[body.length + field.length];
    System.arraycopy(body, 0, out, 0, brace + 1);
    System.arraycopy(field, 0, out, brace + 1, field.length);
    System.arraycopy(body, brace + 1, out, brace + 1 + field.length, body.length - brace - 1);
    return out;
  }

  private static boolean isEmptyObject(byte[] body, int brace) {
    for (int i = brace + 1; i < body.length; i++) {
      byte b = body[i];
      if (b == '}') {
        return true;
      }
      if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
        return false;
      }
    }
    return false;
  }
}
