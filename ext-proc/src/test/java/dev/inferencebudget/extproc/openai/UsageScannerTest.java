package dev.inferencebudget.extproc.openai;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class UsageScannerTest {
  static final String SSE =
      "data: {\"id\":\"1\",\"choices\":[{\"delta\":{\"content\":\"usage\"}}],\"usage\":null}\n\n"
          + "data: {\"id\":\"1\",\"choices\":[{\"delta\":{\"content\":\"\\\"usage\\\"\"}}]}\r\n\r\n"
          + ": comment\n\n"
          + "data: {\"id\":\"1\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"total_tokens\":19,"
          + "\"completion_tokens\":7,\"prompt_tokens_details\":{\"cached_tokens\":3}}}\n\n"
          + "data: [DONE]\n\n";
  static final String JSON =
      "{\"id\":\"x\",\"choices\":[{\"message\":{\"content\":\"{\\\"usage\\\":{\\\"prompt_tokens\\\":1}}\"},"
          + "\"usage\":{\"prompt_tokens\":99,\"completion_tokens\":99}}],"
          + "\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":8,\"total_tokens\":48}}";

  static Optional<Usage> scanSplitAt(UsageScanner scanner, String body, int... cuts) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    int from = 0;
    for (int cut : cuts) {
      scanner.accept(ByteBuffer.wrap(bytes, from, cut - from));
      from = cut;
    }
    scanner.accept(ByteBuffer.wrap(bytes, from, bytes.length - from));
    scanner.finish();
    return scanner.usage();
  }

  @Test
  void sseUsageIsFoundWhereverTheChunksSplit() {
    int length = SSE.getBytes(StandardCharsets.UTF_8).length;
    for (int cut = 0; cut <= length; cut++) {
      assertThat(scanSplitAt(UsageScanner.forResponse("text/event-stream", null), SSE, cut))
          .as("cut at %d", cut)
          .contains(new Usage(12, 7));
    }
    assertThat(
            scanSplitAt(
                UsageScanner.forResponse("text/event-stream", null), SSE, 10, 11, 12, 90, 200))
        .contains(new Usage(12, 7));
  }

  @Test
  void jsonUsageIsTheTopLevelOneWhereverTheChunksSplit() {
    int length = JSON.getBytes(StandardCharsets.UTF_8).length;
    for (int cut = 0; cut <= length; cut++) {
      assertThat(
              scanSplitAt(
                  UsageScanner.forResponse("application/json; charset=utf-8", null), JSON, cut))
          .as("cut at %d", cut)
          .contains(new Usage(40, 8));
    }
    byte[] bytes = JSON.getBytes(StandardCharsets.UTF_8);
    UsageScanner byteByByte = UsageScanner.forResponse("application/json", "");
    for (byte b : bytes) {
      byteByByte.accept(ByteBuffer.wrap(new byte[] {b}));
    }
    assertThat(byteByByte.usage()).contains(new Usage(40, 8));
  }

  @Test
  void noUsageInBrokenCompressedOrOtherBodies() {
    assertThat(scanSplitAt(UsageScanner.forResponse("application/json", null), "{\"usage\":", 3))
        .isEmpty();
    assertThat(scanSplitAt(UsageScanner.forResponse("application/json", "gzip"), JSON)).isEmpty();
    assertThat(scanSplitAt(UsageScanner.forResponse("text/plain", null), JSON)).isEmpty();
    assertThat(
            scanSplitAt(
                UsageScanner.forResponse("text/event-stream", null),
                "data: {\"usage\":{\"prompt_tokens\":\"x\"}}\n\n"))
        .isEmpty();
  }

  @Test
  void sseLastEventWithoutTrailingNewlineIsReadAtTheEnd() {
    assertThat(
            scanSplitAt(
                UsageScanner.forResponse("text/event-stream", null),
                "data:{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}"))
        .contains(new Usage(1, 2));
  }
}
