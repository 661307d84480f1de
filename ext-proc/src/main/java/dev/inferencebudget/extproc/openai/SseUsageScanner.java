package dev.inferencebudget.extproc.openai;

import com.fasterxml.jackson.core.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;

/**
 * Scans a server-sent event stream: splits lines across chunk boundaries, holding at most one line,
 * and parses only {@code data:} lines that mention {@code "usage"} (the final chunk when {@code
 * stream_options.include_usage} is set). Hand-written because it is a byte loop over the hottest
 * path of a streamed response, and no SSE library reads from pushed chunks without copying them.
 */
final class SseUsageScanner implements UsageScanner {

  /** Lines longer than this are skipped: a usage event is a few hundred bytes. */
  static final int MAX_LINE_BYTES = 1 << 20;

  private static final byte[] DATA = "data:".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final byte[] USAGE =
      "\"usage\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private byte[] line = new byte[512];
  private int length;
  private boolean overflow;
  private Usage usage;

  @Override
  public void accept(ByteBuffer chunk) {
    while (chunk.hasRemaining()) {
      byte b = chunk.get();
      if (b == '\n' || b == '\r') {
        endLine();
      } else if (!overflow) {
        if (length == line.length) {
          if (length >= MAX_LINE_BYTES) {
            overflow = true;
            continue;
          }
          line = Arrays.copyOf(line, Math.min(MAX_LINE_BYTES, length * 2));
        }
        line[length++] = b;
      }
    }
  }

  private void endLine() {
    if (!overflow && length > DATA.length && startsWith(DATA) && contains(USAGE)) {
      int start = DATA.length;
      if (line[start] == ' ') {
        start++;
      }
      UsageTokens tokens = new UsageTokens();
      try (JsonParser json = OpenAiJson.FACTORY.createParser(line, start, length - start)) {
        tokens.drain(json);
      } catch (IOException | RuntimeException e) {
        // A malformed event carries no usage we can trust; keep the previous one.
      }
      if (tokens.found() != null) {
        usage = tokens.found();
      }
    }
    length = 0;
    overflow = false;
    if (line.length > 4096) {
      line = new byte[512]; // do not keep a large buffer for the rest of a long stream
    }
  }

  private boolean startsWith(byte[] prefix) {
    for (int i = 0; i < prefix.length; i++) {
      if (line[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private boolean contains(byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (line[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  @Override
  public void finish() {
    endLine();
  }

  @Override
  public Optional<Usage> usage() {
    return Optional.ofNullable(usage);
  }
}
