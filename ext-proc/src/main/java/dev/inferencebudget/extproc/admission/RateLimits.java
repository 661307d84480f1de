package dev.inferencebudget.extproc.admission;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A snapshot of one tenant's buckets for one model, as OpenAI reports them in {@code x-ratelimit-*}
 * headers. A limit of 0 means that dimension is unlimited (and not reported).
 */
public record RateLimits(
    long limitRequests,
    long limitTokens,
    long remainingRequests,
    long remainingTokens,
    Duration resetRequests,
    Duration resetTokens) {

  /** No limits: no headers. */
  public static final RateLimits NONE = new RateLimits(0, 0, 0, 0, Duration.ZERO, Duration.ZERO);

  /** The {@code x-ratelimit-*} headers, lowercase names, OpenAI's value formats. */
  public Map<String, String> headers() {
    Map<String, String> headers = new LinkedHashMap<>();
    if (limitRequests > 0) {
      headers.put("x-ratelimit-limit-requests", Long.toString(limitRequests));
      headers.put("x-ratelimit-remaining-requests", Long.toString(remainingRequests));
      headers.put("x-ratelimit-reset-requests", resetFormat(resetRequests));
    }
    if (limitTokens > 0) {
      headers.put("x-ratelimit-limit-tokens", Long.toString(limitTokens));
      headers.put("x-ratelimit-remaining-tokens", Long.toString(remainingTokens));
      headers.put("x-ratelimit-reset-tokens", resetFormat(resetTokens));
    }
    return headers;
  }

  /**
   * OpenAI's reset format, which is Go's duration format: {@code 20ms}, {@code 1s}, {@code 6m0s},
   * {@code 1h2m3s}. Whole seconds are rounded up so a client that waits that long finds room.
   */
  public static String resetFormat(Duration duration) {
    long millis = Math.max(0, duration.toMillis());
    if (millis < 1000) {
      return millis + "ms";
    }
    long seconds = (millis + 999) / 1000;
    long hours = seconds / 3600;
    long minutes = (seconds % 3600) / 60;
    long secs = seconds % 60;
    if (hours > 0) {
      return hours + "h" + minutes + "m" + secs + "s";
    }
    if (minutes > 0) {
      return minutes + "m" + secs + "s";
    }
    return secs + "s";
  }
}
