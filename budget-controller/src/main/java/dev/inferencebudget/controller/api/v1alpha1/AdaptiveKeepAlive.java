package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.inferencebudget.controller.api.GoDurations;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;
import java.time.Duration;

/**
 * The time scale of the adaptive keep-alive's histogram of idle gaps (Shahrad et al., ATC 2020:
 * one-minute buckets over four hours). Only read when {@code keepAlive} is {@code Adaptive}.
 *
 * <p>The bucket count ({@code histogramRange / bucketWidth}) is bounded by {@link #MAX_BUCKETS}:
 * the histogram is an array of that many counters per model, in memory and (sparsely) in status.
 * The schema checks it with CEL; the controller checks it again (an object the API server did not
 * validate) and reports an {@code InvalidSpec} condition naming the field.
 *
 * @param bucketWidth histogram resolution, at least 1ms (default {@code 1m}); gaps are counted in
 *     whole milliseconds, so a finer part is ignored
 * @param histogramRange idle gaps at or beyond this are out of range (default {@code 4h})
 */
@ValidationRule(
    value = "duration(self.bucketWidth) >= duration('1ms')",
    reason = "FieldValueInvalid",
    fieldPath = ".bucketWidth",
    message = "scaleToZero.adaptive.bucketWidth must be at least 1ms")
@ValidationRule(
    value = "duration(self.histogramRange) >= duration(self.bucketWidth)",
    reason = "FieldValueInvalid",
    fieldPath = ".histogramRange",
    message = "scaleToZero.adaptive.histogramRange must be at least bucketWidth")
@ValidationRule(
    value =
        "duration(self.bucketWidth) < duration('1ms') || "
            + AdaptiveKeepAlive.RANGE_MILLIS
            + " / "
            + AdaptiveKeepAlive.WIDTH_MILLIS
            + " <= "
            + AdaptiveKeepAlive.MAX_BUCKETS,
    reason = "FieldValueInvalid",
    fieldPath = ".histogramRange",
    message =
        "scaleToZero.adaptive.histogramRange must be at most "
            + AdaptiveKeepAlive.MAX_BUCKETS
            + " buckets of bucketWidth")
public record AdaptiveKeepAlive(
    @Pattern(GoDurations.PATTERN)
        @Default(Defaults.ADAPTIVE_BUCKET_WIDTH)
        @JsonPropertyDescription(
            "Resolution of the histogram of idle gaps (Go duration, at least 1ms, e.g. 1m).")
        String bucketWidth,
    @Pattern(GoDurations.PATTERN)
        @Default(Defaults.ADAPTIVE_HISTOGRAM_RANGE)
        @JsonPropertyDescription(
            "Idle gaps at or beyond this are out of range (Go duration, e.g. 4h); at most "
                + AdaptiveKeepAlive.MAX_BUCKETS
                + " buckets of bucketWidth.")
        String histogramRange) {

  /** The most buckets a histogram may have (the decision core's limit). */
  public static final int MAX_BUCKETS = 100_000;

  // Whole milliseconds in CEL, as the decision core counts them. getMilliseconds() alone is the
  // total in cel-go (the API server's) but the millisecond-of-second part in cel-java (this
  // project's tests): seconds * 1000 plus that part modulo 1000 is the total in both. The rule's
  // first alternative keeps a width under 1ms (reported by the first rule) from dividing by zero.
  static final String RANGE_MILLIS =
      "(duration(self.histogramRange).getSeconds() * 1000"
          + " + duration(self.histogramRange).getMilliseconds() % 1000)";
  static final String WIDTH_MILLIS =
      "(duration(self.bucketWidth).getSeconds() * 1000"
          + " + duration(self.bucketWidth).getMilliseconds() % 1000)";

  public static final AdaptiveKeepAlive DEFAULTS = new AdaptiveKeepAlive(null, null);

  public AdaptiveKeepAlive {
    bucketWidth = bucketWidth == null ? Defaults.ADAPTIVE_BUCKET_WIDTH : bucketWidth;
    histogramRange = histogramRange == null ? Defaults.ADAPTIVE_HISTOGRAM_RANGE : histogramRange;
  }

  public Duration bucketWidthDuration() {
    return GoDurations.parse(bucketWidth, "spec.scaleToZero.adaptive.bucketWidth");
  }

  public Duration histogramRangeDuration() {
    return GoDurations.parse(histogramRange, "spec.scaleToZero.adaptive.histogramRange");
  }
}
