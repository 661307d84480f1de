package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Map;
import java.util.TreeMap;

/**
 * The adaptive keep-alive's learned idle gaps, kept in status so a restarted controller does not
 * forget them. Sparse: most of the buckets of a 4-hour range are empty.
 *
 * <p>The bucket width is written as {@code bucketWidthSeconds} when it is a whole number of seconds
 * (as before sub-second widths existed, so an older controller still reads it), else as {@code
 * bucketWidthMillis}. A histogram is only used with the width and bucket count it was learned with:
 * one whose shape differs from the spec's {@code scaleToZero.adaptive} is discarded, not
 * reinterpreted.
 *
 * @param bucketWidthSeconds width of one bucket, when it is whole seconds
 * @param buckets number of buckets (the histogram's range is {@code buckets × bucket width})
 * @param counts gaps per non-empty bucket, by bucket index (as a string: a JSON object key)
 * @param outOfRange gaps longer than the range
 * @param bucketWidthMillis width of one bucket, when it is not whole seconds
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record IdleGapHistogram(
    @JsonPropertyDescription("Width of one bucket, in seconds (when it is whole seconds).")
        Long bucketWidthSeconds,
    @JsonPropertyDescription("Number of buckets.") Integer buckets,
    @JsonPropertyDescription("Idle gaps per non-empty bucket, by bucket index.")
        Map<String, Long> counts,
    @JsonPropertyDescription("Idle gaps longer than the histogram's range.") Long outOfRange,
    @JsonPropertyDescription("Width of one bucket, in milliseconds (when it is not whole seconds).")
        Long bucketWidthMillis) {

  public IdleGapHistogram {
    counts = counts == null ? Map.of() : new TreeMap<>(counts);
  }

  /** A histogram whose bucket width is whole seconds. */
  public IdleGapHistogram(
      Long bucketWidthSeconds, Integer buckets, Map<String, Long> counts, Long outOfRange) {
    this(bucketWidthSeconds, buckets, counts, outOfRange, null);
  }
}
