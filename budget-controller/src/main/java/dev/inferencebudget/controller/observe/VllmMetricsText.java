package dev.inferencebudget.controller.observe;

import java.util.OptionalDouble;

/**
 * Reads the one value the observer needs from vLLM's Prometheus text exposition: the {@code
 * gpu_memory_utilization} label of {@code vllm:cache_config_info}, the fraction of each GPU vLLM
 * allocates at start (weights, activations and the KV cache; vLLM preallocates it and keeps it).
 *
 * <p>Hand-written: Prometheus client_java 1.x ships writers of the text format but no parser, and
 * one label of one series does not justify another dependency.
 */
public final class VllmMetricsText {

  static final String CACHE_CONFIG_INFO = "vllm:cache_config_info";
  static final String UTILIZATION_LABEL = "gpu_memory_utilization";

  private VllmMetricsText() {}

  /** The fraction (0..1] vLLM claims of each GPU, or empty when the text does not say. */
  public static OptionalDouble gpuMemoryUtilization(String text) {
    for (String line : text.split("\n")) {
      if (!line.startsWith(CACHE_CONFIG_INFO + "{")) {
        continue;
      }
      int end = line.indexOf('}');
      if (end < 0) {
        continue;
      }
      String labels = line.substring(CACHE_CONFIG_INFO.length() + 1, end);
      String value = label(labels, UTILIZATION_LABEL);
      if (value == null) {
        continue;
      }
      try {
        double fraction = Double.parseDouble(value);
        if (fraction > 0 && fraction <= 1) {
          return OptionalDouble.of(fraction);
        }
      } catch (NumberFormatException e) {
        // not a number: the series says nothing usable
      }
    }
    return OptionalDouble.empty();
  }

  /**
   * The value of {@code name} in a label list {@code a="x",b="y"} (no escaped quotes in vLLM's).
   */
  private static String label(String labels, String name) {
    int i = 0;
    while (i < labels.length()) {
      int eq = labels.indexOf('=', i);
      if (eq < 0 || eq + 1 >= labels.length() || labels.charAt(eq + 1) != '"') {
        return null;
      }
      int close = labels.indexOf('"', eq + 2);
      if (close < 0) {
        return null;
      }
      if (labels.substring(i, eq).trim().equals(name)) {
        return labels.substring(eq + 2, close);
      }
      i = close + 1;
      while (i < labels.length() && (labels.charAt(i) == ',' || labels.charAt(i) == ' ')) {
        i++;
      }
    }
    return null;
  }
}
