package dev.inferencebudget.harness.vllm;

import java.util.Arrays;
import java.util.List;
import java.util.OptionalDouble;

/** Reads samples out of a Prometheus text exposition, for assertions. */
final class PrometheusText {
  private final List<String> lines;

  PrometheusText(String text) {
    this.lines = text.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).toList();
  }

  /** The value of the sample named {@code name} whose labels include every {@code k="v"} given. */
  OptionalDouble value(String name, String... labelPairs) {
    for (String line : lines) {
      int brace = line.indexOf('{');
      int space = line.lastIndexOf(' ');
      String sampleName = brace >= 0 ? line.substring(0, brace) : line.substring(0, space);
      if (!sampleName.equals(name)) {
        continue;
      }
      String labels = brace >= 0 ? line.substring(brace, line.lastIndexOf('}') + 1) : "";
      if (Arrays.stream(labelPairs).allMatch(labels::contains)) {
        return OptionalDouble.of(Double.parseDouble(line.substring(space + 1)));
      }
    }
    return OptionalDouble.empty();
  }

  double require(String name, String... labelPairs) {
    return value(name, labelPairs)
        .orElseThrow(
            () ->
                new AssertionError(
                    "no sample "
                        + name
                        + Arrays.toString(labelPairs)
                        + " in\n"
                        + String.join("\n", lines)));
  }
}
