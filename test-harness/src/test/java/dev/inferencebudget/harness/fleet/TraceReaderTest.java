package dev.inferencebudget.harness.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

class TraceReaderTest {
  @Test
  void seven_fractional_digits_without_zone_become_microsecond_offsets_from_the_first_row()
      throws Exception {
    String csv =
        "TIMESTAMP,ContextTokens,GeneratedTokens\n"
            + "2023-11-16 18:17:03.9799600,4808,10\n"
            + "2023-11-16 18:17:04.0319600,3180,8\n"
            + "2023-11-16 18:18:04.0319610,12,1"; // last line without a newline, as in the shared
    // files

    List<TraceRequest> requests = TraceReader.read(new StringReader(csv), "inline");

    assertThat(requests)
        .containsExactly(
            new TraceRequest(0, 4808, 10),
            new TraceRequest(52_000, 3180, 8),
            new TraceRequest(60_052_001, 12, 1));
  }

  @Test
  void rows_out_of_order_are_sorted_by_arrival() throws Exception {
    String csv =
        "TIMESTAMP,ContextTokens,GeneratedTokens\n"
            + "2023-11-16 18:17:05.0000000,2,2\n"
            + "2023-11-16 18:17:03.0000000,1,1\n";

    List<TraceRequest> requests = TraceReader.read(new StringReader(csv), "inline");

    assertThat(requests)
        .containsExactly(new TraceRequest(0, 1, 1), new TraceRequest(2_000_000, 2, 2));
  }

  @Test
  void a_malformed_row_is_reported_with_its_line_number() {
    String csv =
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:05.0000000,2,2\n2023-11-16,x,1\n";

    assertThatThrownBy(() -> TraceReader.read(new StringReader(csv), "bad.csv"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("bad.csv:3:");
  }

  @Test
  void a_file_without_the_header_is_refused() {
    assertThatThrownBy(() -> TraceReader.read(new StringReader("a,b,c\n"), "x.csv"))
        .hasMessageContaining("expected header");
  }

  @Test
  void the_bundled_code_trace_is_the_unchanged_azure_file() throws Exception {
    List<TraceRequest> requests = TraceReader.readBundledCodeTrace();

    assertThat(requests).hasSize(8_819); // 8,820 lines: the header and 8,819 rows
    assertThat(requests.get(0)).isEqualTo(new TraceRequest(0, 4808, 10));
    assertThat(requests.get(requests.size() - 1).contextTokens()).isEqualTo(549);
    assertThat(requests.get(requests.size() - 1).generatedTokens()).isEqualTo(173);
    // 18:17:03.97996 to 19:14:19.928016: about 57 minutes
    assertThat(requests.get(requests.size() - 1).offsetMicros()).isEqualTo(3_435_948_056L);
    try (InputStream in = TraceReader.class.getResourceAsStream(TraceReader.BUNDLED_CODE_TRACE)) {
      byte[] bytes = in.readAllBytes();
      assertThat(bytes).hasSize(320_117);
      assertThat(bytes[bytes.length - 1]).isNotEqualTo((byte) '\n');
    }
  }
}
