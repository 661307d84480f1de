package dev.inferencebudget.controller.api;

import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.util.Objects;

/**
 * Exact conversions between Kubernetes quantities and byte counts.
 *
 * <p>Budgets are compared byte for byte: {@code 24Gi} is exactly 25,769,803,776 bytes and three of
 * them fit in {@code 72Gi} with nothing to spare. fabric8's {@link
 * Quantity#getAmountInBytes(Quantity)} does the parsing; this class only refuses what is not a
 * whole, non-negative number of bytes that fits in a {@code long}.
 */
public final class Quantities {

  /**
   * The format the CRDs accept for byte quantities: a non-negative decimal number with an optional
   * binary ({@code Ki} .. {@code Pi}) or decimal ({@code k} .. {@code E}) suffix or exponent.
   * Narrower than a general Kubernetes quantity: no sign and no milli/micro/nano suffixes, which
   * make no sense for bytes. Written without backslashes so that it reads the same in a Java
   * string, a CEL string literal and YAML.
   */
  public static final String BYTES_PATTERN = "^[0-9]+([.][0-9]+)?([KMGTP]i|[kMGTPE]|[eE][0-9]+)?$";

  /**
   * fabric8 computes the {@code Ei} multiplier through a {@code double} (1Ei comes out as
   * 1152921504606847000, 24 bytes too many), so exbibyte quantities are refused rather than
   * silently rounded. No GPU pool is that large.
   */
  private static final String INEXACT_SUFFIX = "Ei";

  private static final long[] BINARY_UNITS = {1L << 50, 1L << 40, 1L << 30, 1L << 20, 1L << 10};
  private static final String[] BINARY_SUFFIXES = {"Pi", "Ti", "Gi", "Mi", "Ki"};

  private Quantities() {}

  /**
   * Converts a quantity to an exact byte count.
   *
   * @param quantity the quantity, for example {@code 24Gi}, {@code 80G}, {@code 1.5Gi} or {@code
   *     1000}
   * @param field the field it came from, named in the error message (for example {@code
   *     spec.gpuMemory})
   * @throws IllegalArgumentException if the quantity is malformed, negative, not a whole number of
   *     bytes, or does not fit in a {@code long}
   */
  public static long toBytes(Quantity quantity, String field) {
    Objects.requireNonNull(quantity, field);
    Objects.requireNonNull(field, "field");
    String text = quantity.toString();
    if (text.endsWith(INEXACT_SUFFIX)) {
      throw invalid(
          field, text, "the Ei suffix is not supported, use Pi or a plain number of bytes");
    }
    BigDecimal bytes;
    try {
      bytes = Quantity.getAmountInBytes(quantity);
    } catch (RuntimeException e) {
      throw invalid(field, text, "must be a Kubernetes quantity such as 24Gi or 80G");
    }
    if (bytes.signum() < 0) {
      throw invalid(field, text, "must not be negative");
    }
    BigDecimal whole = bytes.stripTrailingZeros();
    if (whole.scale() > 0) {
      throw invalid(
          field,
          text,
          "must be a whole number of bytes, but is " + whole.toPlainString() + " bytes");
    }
    try {
      return whole.longValueExact();
    } catch (ArithmeticException e) {
      throw invalid(field, text, "is too large (more than " + Long.MAX_VALUE + " bytes)");
    }
  }

  /**
   * Converts a byte count to a quantity, in the largest binary unit that divides it exactly ({@code
   * 24Gi} rather than {@code 25769803776}), so that status fields read like the spec. Hand-written
   * because fabric8's {@link Quantity#fromNumericalAmount} keeps the unit it is given even when the
   * result is fractional.
   *
   * @throws IllegalArgumentException if {@code bytes} is negative
   */
  public static Quantity ofBytes(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes = " + bytes + ", must not be negative");
    }
    if (bytes > 0) {
      for (int i = 0; i < BINARY_UNITS.length; i++) {
        if (bytes % BINARY_UNITS[i] == 0) {
          return new Quantity(Long.toString(bytes / BINARY_UNITS[i]), BINARY_SUFFIXES[i]);
        }
      }
    }
    return new Quantity(Long.toString(bytes));
  }

  private static IllegalArgumentException invalid(String field, String text, String why) {
    return new IllegalArgumentException(field + " = " + text + ", " + why);
  }
}
