package dev.inferencebudget.harness.envoy;

import com.google.protobuf.Struct;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One finished request, as Envoy's access log would show it.
 *
 * @param method the request method
 * @param path the original {@code :path}
 * @param responseCode the status sent downstream; 0 if the stream was reset before a response
 *     started
 * @param responseCodeDetails {@code %RESPONSE_CODE_DETAILS%}: {@code via_upstream} for proxied
 *     responses, otherwise the local reply's details (e.g. {@code
 *     ext_proc_error_per-message_timeout_exceeded})
 * @param upstreamHost the host the router picked, if any
 * @param route the route name the router used, if any
 * @param downstreamReset whether the downstream stream was reset (e.g. an error after the response
 *     had started)
 * @param dynamicMetadata namespaces written by the ext_proc server and accepted (rule 23)
 * @param duration from request headers to the end of the stream
 */
public record AccessLogEntry(
    String method,
    String path,
    int responseCode,
    String responseCodeDetails,
    Optional<String> upstreamHost,
    Optional<String> route,
    boolean downstreamReset,
    Map<String, Struct> dynamicMetadata,
    Duration duration) {

  /** Details of a response proxied from upstream. */
  public static final String VIA_UPSTREAM = "via_upstream";

  public AccessLogEntry {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(responseCodeDetails, "responseCodeDetails");
    Objects.requireNonNull(upstreamHost, "upstreamHost");
    Objects.requireNonNull(route, "route");
    dynamicMetadata = Map.copyOf(dynamicMetadata);
    Objects.requireNonNull(duration, "duration");
  }
}
