package dev.inferencebudget.harness.envoy;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * One route of the route table, the subset of Envoy's {@code Route} the stand-in needs: a path
 * prefix and an optional exact header match (the routing header {@code x-ibc-model}) select a
 * cluster.
 *
 * @param name for logs and tests
 * @param pathPrefix matches when {@code :path} starts with it ("/" matches everything)
 * @param headerName if present, the header that must be present with exactly {@code headerValue}
 * @param headerValue the required header value (ignored without {@code headerName})
 * @param cluster the cluster the request goes to
 * @param timeout the route {@code timeout}: starts once the request has passed the filters and is
 *     fully sent upstream, so a hold in ext_proc does not count (rule 15; Envoy's default 15 s);
 *     zero disables it
 * @param idleTimeout the route {@code idle_timeout}, overriding the HCM's stream idle timeout when
 *     present (rule 15)
 */
public record Route(
    String name,
    String pathPrefix,
    Optional<String> headerName,
    String headerValue,
    String cluster,
    Duration timeout,
    Optional<Duration> idleTimeout,
    Optional<DirectResponse> directResponse) {

  /** Envoy's {@code direct_response}: a fixed status and body. */
  public record DirectResponse(int status, String body) {
    public DirectResponse {
      Objects.requireNonNull(body, "body");
    }
  }

  /** Envoy's default route timeout (rule 15). */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(15);

  public Route {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(pathPrefix, "pathPrefix");
    Objects.requireNonNull(headerName, "headerName");
    Objects.requireNonNull(headerValue, "headerValue");
    Objects.requireNonNull(cluster, "cluster");
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    Objects.requireNonNull(directResponse, "directResponse");
    headerName = headerName.map(h -> h.toLowerCase(java.util.Locale.ROOT));
    if (timeout.isNegative()) {
      throw new IllegalArgumentException(
          "route " + name + ": timeout = " + timeout + ", must be >= 0");
    }
  }

  /** A route to a cluster (no direct response). */
  public Route(
      String name,
      String pathPrefix,
      Optional<String> headerName,
      String headerValue,
      String cluster,
      Duration timeout,
      Optional<Duration> idleTimeout) {
    this(
        name, pathPrefix, headerName, headerValue, cluster, timeout, idleTimeout, Optional.empty());
  }

  /**
   * A route on a header value ({@code x-ibc-model: <key>} → cluster), with Envoy's default timeout.
   */
  public static Route onHeader(String name, String headerName, String headerValue, String cluster) {
    return new Route(
        name,
        "/",
        Optional.of(headerName),
        headerValue,
        cluster,
        DEFAULT_TIMEOUT,
        Optional.empty(),
        Optional.empty());
  }

  /** A catch-all route on a path prefix, with Envoy's default timeout. */
  public static Route onPrefix(String name, String pathPrefix, String cluster) {
    return new Route(
        name,
        pathPrefix,
        Optional.empty(),
        "",
        cluster,
        DEFAULT_TIMEOUT,
        Optional.empty(),
        Optional.empty());
  }

  /** A route that answers itself, e.g. the control plane's 404 fallback. */
  public static Route direct(String name, String pathPrefix, int status, String body) {
    return new Route(
        name,
        pathPrefix,
        Optional.empty(),
        "",
        "",
        DEFAULT_TIMEOUT,
        Optional.empty(),
        Optional.of(new DirectResponse(status, body)));
  }

  public Route withTimeout(Duration v) {
    return new Route(
        name, pathPrefix, headerName, headerValue, cluster, v, idleTimeout, directResponse);
  }

  public Route withIdleTimeout(Duration v) {
    return new Route(
        name,
        pathPrefix,
        headerName,
        headerValue,
        cluster,
        timeout,
        Optional.of(v),
        directResponse);
  }

  boolean matches(String path, io.vertx.core.MultiMap headers) {
    if (!path.startsWith(pathPrefix)) {
      return false;
    }
    return headerName.isEmpty() || headerValue.equals(headers.get(headerName.get()));
  }
}
