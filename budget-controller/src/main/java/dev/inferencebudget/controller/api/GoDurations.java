package dev.inferencebudget.controller.api;

import io.fabric8.kubernetes.api.model.Duration;
import java.text.ParseException;
import java.util.Objects;

/**
 * Converts the Go duration strings of the custom resources ({@code 10m}, {@code 90s}, {@code
 * 1h30m}) with fabric8's {@link Duration} parser.
 *
 * <p>The CRD pattern {@link #PATTERN} admits only whole numbers per unit and no sign, because
 * fabric8's parser reads {@code 1.5h} as five hours and drops a leading minus. Values that passed
 * the API server's validation therefore parse exactly; this class still refuses anything else by
 * name, since a mock API server or an old object may not have been validated.
 */
public final class GoDurations {

  /**
   * The format the CRDs accept for durations: one or more whole numbers, each with a Go unit
   * ({@code h}, {@code m}, {@code s}, {@code ms}, {@code us}, {@code ns}). A subset of what Go,
   * CEL's {@code duration()} and fabric8 all read the same way.
   */
  public static final String PATTERN = "^([0-9]+(h|m|s|ms|us|ns))+$";

  private static final java.util.regex.Pattern FORMAT = java.util.regex.Pattern.compile(PATTERN);

  private GoDurations() {}

  /**
   * Parses a Go duration string.
   *
   * @param text for example {@code 10m}, {@code 90s}, {@code 1h30m}, {@code 250ms}
   * @param field the field it came from, named in the error message (for example {@code
   *     spec.scaleToZero.idleTimeout})
   * @throws IllegalArgumentException if the text is not a duration in the accepted format
   */
  public static java.time.Duration parse(String text, String field) {
    Objects.requireNonNull(text, field);
    Objects.requireNonNull(field, "field");
    if (!FORMAT.matcher(text).matches()) {
      throw new IllegalArgumentException(
          field
              + " = "
              + text
              + ", must be a Go duration with whole numbers such as 10m, 90s or 1h30m");
    }
    try {
      return Duration.parse(text).getDuration();
    } catch (ParseException e) {
      throw new IllegalArgumentException(field + " = " + text + ", " + e.getMessage(), e);
    }
  }
}
