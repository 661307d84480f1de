package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Map;
import java.util.TreeMap;

/**
 * The adaptive keep-alive's learned idle gaps, kept in status so a restarted controller does not
 * forget them. Sparse: most of the buckets of a 4-hour range are empty.
 *
 * @param bucketWidthSeconds width of one bucket
 * @param buckets number of buckets (the histogram's range is {@code buckets × bucketWidthSeconds})
 * @param counts gaps per non-empty bucket, by bucket index (as a string: a JSON object key)
 * @param outOfRange gaps longer than the range
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record IdleGapHistogram(
    @JsonPropertyDescription("Width of one bucket, in seconds.") Long bucketWidthSeconds,
    @JsonPropertyDescription("Number of buckets.") Integer buckets,
    @JsonPropertyDescription("Idle gaps per non-empty bucket, by bucket index.")
        Map<String, Long> counts,
    @JsonPropertyDescription("Idle gaps longer than the histogram's range.") Long outOfRange) {

  public IdleGapHistogram {
    counts = counts == null ? Map.of() : new TreeMap<>(counts);
  }
}
