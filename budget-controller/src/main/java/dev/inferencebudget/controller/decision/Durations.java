package dev.inferencebudget.controller.decision;

import java.time.Duration;

/** Short human-readable durations for reasons ({@code 10m}, {@code 1h30m}, {@code 45s}). */
final class Durations {
  private Durations() {}

  static String format(Duration d) {
    long s = d.getSeconds();
    if (s == 0) {
      return d.toMillis() + "ms";
    }
    StringBuilder out = new StringBuilder();
    long h = s / 3600;
    long m = (s % 3600) / 60;
    long sec = s % 60;
    if (h > 0) {
      out.append(h).append('h');
    }
    if (m > 0) {
      out.append(m).append('m');
    }
    if (sec > 0 || out.length() == 0) {
      out.append(sec).append('s');
    }
    return out.toString();
  }
}
