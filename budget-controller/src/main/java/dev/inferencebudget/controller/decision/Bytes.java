package dev.inferencebudget.controller.decision;

/** Formats byte counts the way Kubernetes quantities read ({@code 24Gi}, {@code 80G}). */
final class Bytes {
  private Bytes() {}

  private static final String[] BINARY = {"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"};
  private static final String[] DECIMAL = {"E", "P", "T", "G", "M", "k"};

  /** The largest unit that divides {@code bytes} exactly, binary first; plain bytes otherwise. */
  static String format(long bytes) {
    if (bytes == 0) {
      return "0";
    }
    for (int i = 0; i < BINARY.length; i++) {
      long unit = 1L << (10 * (BINARY.length - i));
      if (bytes % unit == 0) {
        return (bytes / unit) + BINARY[i];
      }
    }
    for (int i = 0; i < DECIMAL.length; i++) {
      long unit = pow10(3 * (DECIMAL.length - i));
      if (bytes % unit == 0) {
        return (bytes / unit) + DECIMAL[i];
      }
    }
    return Long.toString(bytes);
  }

  private static long pow10(int exp) {
    long v = 1;
    for (int i = 0; i < exp; i++) {
      v *= 10;
    }
    return v;
  }
}
