package dev.inferencebudget.extproc.openai;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * Scans a JSON response body with Jackson's non-blocking parser: each chunk is fed as it arrives,
 * and a token split across chunks is completed by the next one, so nothing but the parser's own
 * token buffer is held.
 */
final class JsonUsageScanner implements UsageScanner {
  private final UsageTokens tokens = new UsageTokens();
  private JsonParser json;
  private boolean failed;

  @Override
  public void accept(ByteBuffer chunk) {
    if (failed || !chunk.hasRemaining()) {
      return;
    }
    try {
      if (json == null) {
        json = OpenAiJson.FACTORY.createNonBlockingByteArrayParser();
      }
      byte[] bytes = new byte[chunk.remaining()];
      chunk.get(bytes);
      ((ByteArrayFeeder) json.getNonBlockingInputFeeder()).feedInput(bytes, 0, bytes.length);
      tokens.drain(json);
    } catch (IOException | RuntimeException e) {
      // Not JSON after all (or truncated): the request settles without usage.
      failed = true;
    }
  }

  @Override
  public void finish() {
    if (json != null && !failed) {
      try {
        ((ByteArrayFeeder) json.getNonBlockingInputFeeder()).endOfInput();
        tokens.drain(json);
      } catch (IOException | RuntimeException e) {
        failed = true;
      }
    }
  }

  @Override
  public Optional<Usage> usage() {
    return Optional.ofNullable(tokens.found());
  }
}
