package dev.inferencebudget.harness.fleet;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Reads traces in the Azure LLM inference trace format: a header {@code
 * TIMESTAMP,ContextTokens,GeneratedTokens} and rows like {@code 2023-11-16
 * 18:17:03.9799600,4808,10} (seven fractional digits, no zone, read as UTC).
 *
 * <p>Hand-written rather than a CSV library: the format is three unquoted columns, and the project
 * has no CSV dependency that would pay for itself here. Rows are returned sorted by arrival (the
 * files are sorted already; a stable sort keeps the reader correct for files that are not).
 */
public final class TraceReader {
  /** The bundled copy of the Azure LLM inference trace 2023 (code), see the README next to it. */
  public static final String BUNDLED_CODE_TRACE = "/traces/azure-llm-2023-code.csv";

  private static final String HEADER = "TIMESTAMP,ContextTokens,GeneratedTokens";
  private static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss[.SSSSSSS][.SSSSSS][.SSS]");

  private TraceReader() {}

  public static List<TraceRequest> read(Path file) {
    Objects.requireNonNull(file, "file");
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return read(reader, file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read trace " + file, e);
    }
  }

  public static List<TraceRequest> readBundledCodeTrace() {
    InputStream in = TraceReader.class.getResourceAsStream(BUNDLED_CODE_TRACE);
    if (in == null) {
      throw new IllegalStateException(
          "bundled trace " + BUNDLED_CODE_TRACE + " is not on the classpath");
    }
    try (Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
      return read(reader, BUNDLED_CODE_TRACE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read trace " + BUNDLED_CODE_TRACE, e);
    }
  }

  /**
   * Parses a trace.
   *
   * @param source names the trace in error messages
   * @throws IllegalArgumentException naming the line when a row is malformed
   */
  public static List<TraceRequest> read(Reader reader, String source) throws IOException {
    BufferedReader lines = new BufferedReader(reader);
    String header = lines.readLine();
    if (header == null || !header.strip().equals(HEADER)) {
      throw new IllegalArgumentException(
          source + ": expected header '" + HEADER + "', got '" + header + "'");
    }
    List<Row> rows = new ArrayList<>();
    String line;
    int lineNumber = 1;
    while ((line = lines.readLine()) != null) {
      lineNumber++;
      if (line.isBlank()) {
        continue;
      }
      rows.add(parse(line, source, lineNumber));
    }
    if (rows.isEmpty()) {
      return List.of();
    }
    rows.sort((a, b) -> a.at().compareTo(b.at()));
    LocalDateTime first = rows.get(0).at();
    List<TraceRequest> requests = new ArrayList<>(rows.size());
    for (Row row : rows) {
      long offsetMicros =
          Duration.between(first.toInstant(ZoneOffset.UTC), row.at().toInstant(ZoneOffset.UTC))
                  .toNanos()
              / 1_000;
      requests.add(new TraceRequest(offsetMicros, row.contextTokens(), row.generatedTokens()));
    }
    return List.copyOf(requests);
  }

  private static Row parse(String line, String source, int lineNumber) {
    String[] fields = line.split(",", -1);
    if (fields.length != 3) {
      throw new IllegalArgumentException(
          source
              + ":"
              + lineNumber
              + ": expected 3 columns, got "
              + fields.length
              + ": '"
              + line
              + "'");
    }
    try {
      return new Row(
          LocalDateTime.parse(fields[0].strip(), TIMESTAMP),
          Integer.parseInt(fields[1].strip()),
          Integer.parseInt(fields[2].strip()));
    } catch (DateTimeParseException | NumberFormatException e) {
      throw new IllegalArgumentException(
          source + ":" + lineNumber + ": " + e.getMessage() + ": '" + line + "'", e);
    }
  }

  private record Row(LocalDateTime at, int contextTokens, int generatedTokens) {}
}
