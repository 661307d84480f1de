package dev.inferencebudget.harness.envoy;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.vertx.core.Context;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * One downstream HTTP request through the stand-in: Envoy's HCM {@code ActiveStream} (route cache,
 * stream idle timer, local replies), the ext_proc filter, and the router (host selection, upstream
 * request, route timeout). Every method runs on the request's event-loop context.
 */
final class ActiveStream implements FilterCallbacks {
  private final EnvoyStandIn owner;
  private final Vertx vertx;
  private final Context context;
  private final HttpServerRequest request;
  private final HttpServerResponse response;
  private final long startNanos = System.nanoTime();
  private final String method;
  private final String originalPath;
  private final ExtProcFilter filter;

  private MultiMap requestHeaders;
  private Optional<Route> cachedRoute = Optional.empty();
  private boolean routeCacheCleared;
  private Route route;
  private String upstreamHost;

  // router state
  private HttpClientRequest upstreamRequest;
  private boolean upstreamRequested;
  private final List<Buffer> pendingUpstreamData = new ArrayList<>();
  private boolean pendingUpstreamEnd;
  private HttpClientResponse upstreamResponse;
  private boolean upstreamCancelled;

  // timers
  private long idleTimerId = -1;
  private Duration idleTimeout;
  private long routeTimerId = -1;

  private boolean requestHeadersEndStream;
  private boolean requestEnded;
  private boolean responseStarted;
  private boolean completed;

  ActiveStream(EnvoyStandIn owner, HttpServerRequest request) {
    this.owner = owner;
    this.vertx = owner.vertx();
    this.context = vertx.getOrCreateContext();
    this.request = request;
    this.response = request.response();
    this.method = request.method().name();
    this.originalPath = request.uri();
    this.idleTimeout = owner.config().streamIdleTimeout();
    this.filter =
        owner.config().extProc().isPresent()
            ? new ExtProcFilter(
                owner.config().extProc().get(), owner.extProcClient(), owner.stats(), this)
            : null;
  }

  void start() {
    owner.stats().inc(ExtProcStats.DOWNSTREAM_RQ_TOTAL);
    requestHeaders = toEnvoyHeaders(request);
    // HCM refreshCachedRoute: the route is computed from the headers as the client sent them (rule
    // 21).
    cachedRoute = owner.routes().match(requestHeaders);
    resetIdleTimer();
    String contentLength = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    boolean chunked = "chunked".equalsIgnoreCase(request.getHeader(HttpHeaders.TRANSFER_ENCODING));
    requestHeadersEndStream =
        !chunked && (contentLength == null || "0".equals(contentLength.trim()));
    request.handler(this::onRequestData);
    request.endHandler(v -> onRequestEnd());
    request.exceptionHandler(e -> onDownstreamDisconnect());
    response.closeHandler(v -> onDownstreamDisconnect());
    if (filter != null) {
      filter.decodeHeaders(requestHeaders, requestHeadersEndStream);
    } else {
      decodingSink().headers(requestHeaders, requestHeadersEndStream);
    }
  }

  private static MultiMap toEnvoyHeaders(HttpServerRequest request) {
    MultiMap h = MultiMap.caseInsensitiveMultiMap();
    // The HTTP/1 codec turns the request line and Host into pseudo-headers (rule 2: pseudo-headers
    // are included).
    h.add(
        ":authority",
        request.getHeader(HttpHeaders.HOST) == null ? "" : request.getHeader(HttpHeaders.HOST));
    h.add(":path", request.uri());
    h.add(":method", request.method().name());
    h.add(":scheme", "http");
    for (Map.Entry<String, String> e : request.headers()) {
      String name = e.getKey().toLowerCase(Locale.ROOT);
      if (!name.equals("host")) {
        h.add(name, e.getValue());
      }
    }
    // HCM defaults: generate x-request-id, set x-forwarded-proto.
    if (!h.contains("x-request-id")) {
      h.add("x-request-id", UUID.randomUUID().toString());
    }
    h.set("x-forwarded-proto", "http");
    return h;
  }

  private void onRequestData(Buffer data) {
    if (completed) {
      return;
    }
    resetIdleTimer();
    if (filter != null) {
      filter.decodeData(data, false);
    } else {
      decodingSink().data(data, false);
    }
  }

  private void onRequestEnd() {
    requestEnded = true;
    if (completed || requestHeadersEndStream) {
      return;
    }
    if (filter != null) {
      filter.decodeData(Buffer.buffer(), true);
    } else {
      decodingSink().data(Buffer.buffer(), true);
    }
  }

  /** Rule 7: the client went away; the filter closes its stream (half-close + cancel). */
  private void onDownstreamDisconnect() {
    if (completed) {
      return;
    }
    owner.stats().inc(ExtProcStats.DOWNSTREAM_CX_DESTROY_REMOTE_ACTIVE_RQ);
    complete(0, "downstream_remote_disconnect", true);
  }

  // ---------------------------------------------------------------------------------------------
  // Router (decoding sink)

  @Override
  public Sink decodingSink() {
    return routerSink;
  }

  private final Sink routerSink =
      new Sink() {
        @Override
        public void headers(MultiMap headers, boolean endStream) {
          routeRequest(headers, endStream);
        }

        @Override
        public void data(Buffer data, boolean endStream) {
          if (completed) {
            return;
          }
          if (data.length() > 0) {
            pendingUpstreamData.add(data);
          }
          pendingUpstreamEnd |= endStream;
          flushUpstream();
        }

        @Override
        public void trailers(MultiMap trailers) {
          // HTTP/1.1 upstream requests carry no trailers here; the body ends.
          data(Buffer.buffer(), true);
        }

        @Override
        public void pauseSource() {
          request.pause();
        }

        @Override
        public void resumeSource() {
          if (!requestEnded) {
            request.resume();
          }
        }
      };

  private void routeRequest(MultiMap headers, boolean endStream) {
    if (completed) {
      return;
    }
    requestHeaders = headers;
    if (routeCacheCleared) {
      cachedRoute = owner.routes().match(headers);
    }
    if (cachedRoute.isEmpty()) {
      owner.stats().inc(ExtProcStats.NO_ROUTE);
      sendLocalReply(404, "", h -> {}, "route_not_found");
      return;
    }
    route = cachedRoute.get();
    if (route.directResponse().isPresent()) {
      Route.DirectResponse direct = route.directResponse().get();
      sendLocalReply(direct.status(), direct.body(), h -> {}, "direct_response");
      return;
    }
    route
        .idleTimeout()
        .ifPresent(
            t -> {
              idleTimeout = t;
              resetIdleTimer();
            });
    Optional<Cluster> cluster = owner.clusters().get(route.cluster());
    if (cluster.isEmpty()) {
      sendLocalReply(503, "", h -> {}, "cluster_not_found");
      return;
    }
    // Rule 24: the host is chosen here, from the headers as they are now.
    Optional<Cluster.Endpoint> host = owner.clusters().chooseHost(cluster.get(), headers);
    if (host.isEmpty()) {
      owner.stats().inc(ExtProcStats.NO_HEALTHY_UPSTREAM);
      sendLocalReply(503, "no healthy upstream", h -> {}, "no_healthy_upstream");
      return;
    }
    upstreamHost = host.get().toString();
    pendingUpstreamEnd = endStream;
    RequestOptions options =
        new RequestOptions()
            .setMethod(HttpMethod.valueOf(headers.get(":method")))
            .setHost(host.get().host().replace("[", "").replace("]", ""))
            .setPort(host.get().port())
            .setURI(headers.get(":path"));
    MultiMap upstreamHeaders = MultiMap.caseInsensitiveMultiMap();
    for (Map.Entry<String, String> e : headers) {
      if (!e.getKey().startsWith(":")) {
        upstreamHeaders.add(e.getKey(), e.getValue());
      }
    }
    upstreamHeaders.set("host", headers.get(":authority"));
    options.setHeaders(upstreamHeaders);
    upstreamRequested = true;
    owner
        .httpClient()
        .request(options)
        .onComplete(
            ar -> {
              if (completed) {
                if (ar.succeeded()) {
                  ar.result().reset();
                }
                return;
              }
              if (ar.failed()) {
                onUpstreamFailure(ar.cause());
                return;
              }
              upstreamRequest = ar.result();
              if (!upstreamRequest.headers().contains(HttpHeaders.CONTENT_LENGTH)
                  && !pendingUpstreamEnd) {
                upstreamRequest.setChunked(true);
              }
              upstreamRequest
                  .response()
                  .onComplete(
                      r -> {
                        if (r.succeeded()) {
                          onUpstreamResponse(r.result());
                        } else {
                          onUpstreamFailure(r.cause());
                        }
                      });
              flushUpstream();
            });
  }

  private void flushUpstream() {
    if (upstreamRequest == null || completed) {
      return;
    }
    for (Buffer b : pendingUpstreamData) {
      upstreamRequest.write(b);
    }
    pendingUpstreamData.clear();
    if (pendingUpstreamEnd) {
      pendingUpstreamEnd = false;
      upstreamRequest.end();
      startRouteTimer();
    }
  }

  /**
   * Rule 15: the route timeout starts once the request has passed the filters and is complete
   * upstream.
   */
  private void startRouteTimer() {
    long ms = route.timeout().toMillis();
    if (ms > 0) {
      routeTimerId =
          vertx.setTimer(
              ms,
              id -> {
                routeTimerId = -1;
                owner.stats().inc(ExtProcStats.UPSTREAM_RQ_TIMEOUT);
                sendLocalReply(
                    504, "upstream request timeout", h -> {}, "upstream_response_timeout");
              });
    }
  }

  private void onUpstreamFailure(Throwable cause) {
    if (completed || upstreamCancelled) {
      return;
    }
    if (responseStarted) {
      resetDownstream("upstream_reset_after_response_started{connection_termination}");
    } else {
      boolean connect = upstreamResponse == null;
      String reason = connect ? "connection_failure" : "connection_termination";
      sendLocalReply(
          503,
          "upstream connect error or disconnect/reset before headers. reset reason: "
              + reason.replace('_', ' '),
          h -> {},
          "upstream_reset_before_response_started{" + reason + "}");
    }
  }

  private void onUpstreamResponse(HttpClientResponse upstream) {
    if (completed) {
      return;
    }
    upstreamResponse = upstream;
    resetIdleTimer();
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    headers.add(":status", Integer.toString(upstream.statusCode()));
    for (Map.Entry<String, String> e : upstream.headers()) {
      headers.add(e.getKey().toLowerCase(Locale.ROOT), e.getValue());
    }
    int status = upstream.statusCode();
    boolean endStream =
        "0".equals(upstream.getHeader(HttpHeaders.CONTENT_LENGTH))
            || status == 204
            || status == 304
            || "HEAD".equals(method);
    boolean[] ended = {false};
    upstream.handler(
        data -> {
          if (completed) {
            return;
          }
          resetIdleTimer();
          if (filter != null) {
            filter.encodeData(data, false);
          } else {
            encodingSink().data(data, false);
          }
          if (response.writeQueueFull()) {
            upstream.pause();
            response.drainHandler(v -> upstream.resume());
          }
        });
    upstream.endHandler(
        v -> {
          cancelRouteTimer();
          if (completed || ended[0] || endStream) {
            return;
          }
          ended[0] = true;
          MultiMap trailers = upstream.trailers();
          if (trailers != null && !trailers.isEmpty()) {
            MultiMap t = MultiMap.caseInsensitiveMultiMap();
            trailers.forEach(e -> t.add(e.getKey().toLowerCase(Locale.ROOT), e.getValue()));
            if (filter != null) {
              filter.encodeTrailers(t);
            } else {
              encodingSink().trailers(t);
            }
          } else if (filter != null) {
            filter.encodeData(Buffer.buffer(), true);
          } else {
            encodingSink().data(Buffer.buffer(), true);
          }
        });
    upstream.exceptionHandler(this::onUpstreamFailure);
    if (filter != null) {
      filter.encodeHeaders(headers, endStream);
    } else {
      encodingSink().headers(headers, endStream);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Downstream response (encoding sink)

  @Override
  public Sink encodingSink() {
    return downstreamSink;
  }

  private final Sink downstreamSink =
      new Sink() {
        @Override
        public void headers(MultiMap headers, boolean endStream) {
          if (completed) {
            return;
          }
          responseStarted = true;
          resetIdleTimer();
          int status = Integer.parseInt(headers.get(":status"));
          response.setStatusCode(status);
          for (Map.Entry<String, String> e : headers) {
            if (!e.getKey().startsWith(":") && !e.getKey().equals("transfer-encoding")) {
              response.headers().add(e.getKey(), e.getValue());
            }
          }
          if (endStream) {
            response.end();
            complete(status, AccessLogEntry.VIA_UPSTREAM, false);
            return;
          }
          if (!response.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
            response.setChunked(true);
          }
          // Send the head now, as Envoy does, so streaming clients see headers before the first
          // chunk.
          response.writeHead();
        }

        @Override
        public void data(Buffer data, boolean endStream) {
          if (completed) {
            return;
          }
          resetIdleTimer();
          if (endStream) {
            response.end(data);
            complete(response.getStatusCode(), AccessLogEntry.VIA_UPSTREAM, false);
          } else if (data.length() > 0) {
            response.write(data);
          }
        }

        @Override
        public void trailers(MultiMap trailers) {
          if (completed) {
            return;
          }
          if (response.isChunked()) {
            response.trailers().addAll(trailers);
          }
          response.end();
          complete(response.getStatusCode(), AccessLogEntry.VIA_UPSTREAM, false);
        }

        @Override
        public void pauseSource() {
          if (upstreamResponse != null) {
            upstreamResponse.pause();
          }
        }

        @Override
        public void resumeSource() {
          if (upstreamResponse != null) {
            upstreamResponse.resume();
          }
        }
      };

  // ---------------------------------------------------------------------------------------------
  // FilterCallbacks

  @Override
  public void clearRouteCache() {
    routeCacheCleared = true;
  }

  @Override
  public void sendLocalReply(
      int code, String body, Consumer<MultiMap> headerMutator, String details) {
    if (completed) {
      return;
    }
    if (responseStarted) {
      // Rules 5, 17: once the response has started downstream, the stream is reset.
      resetDownstream(details);
      return;
    }
    cancelUpstream();
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (!body.isEmpty()) {
      headers.set("content-type", "text/plain");
    }
    headerMutator.accept(headers);
    response.setStatusCode(code);
    for (Map.Entry<String, String> e : headers) {
      if (!e.getKey().startsWith(":") && !e.getKey().equals("content-length")) {
        response.headers().add(e.getKey(), e.getValue());
      }
    }
    responseStarted = true;
    response.end(body);
    complete(code, details, false);
  }

  private void resetDownstream(String details) {
    cancelUpstream();
    int code = responseStarted ? response.getStatusCode() : 0;
    response.reset();
    complete(code, details, true);
  }

  private void cancelUpstream() {
    cancelRouteTimer();
    if (upstreamRequest != null && !completed && !upstreamCancelled) {
      // The reset reports back through the exception handlers; this stream has already decided its
      // outcome.
      upstreamCancelled = true;
      upstreamRequest.reset();
    }
  }

  private void cancelRouteTimer() {
    if (routeTimerId >= 0) {
      vertx.cancelTimer(routeTimerId);
      routeTimerId = -1;
    }
  }

  private void complete(int code, String details, boolean reset) {
    if (completed) {
      return;
    }
    if (reset || code == 0) {
      cancelUpstream();
    }
    completed = true;
    cancelRouteTimer();
    if (idleTimerId >= 0) {
      vertx.cancelTimer(idleTimerId);
      idleTimerId = -1;
    }
    Map<String, Struct> metadata = Map.of();
    if (filter != null) {
      filter.onDestroy();
      metadata = filter.dynamicMetadata();
    }
    if (!requestEnded) {
      request.resume();
    }
    owner.log(
        new AccessLogEntry(
            method,
            originalPath,
            code,
            details,
            Optional.ofNullable(upstreamHost),
            Optional.ofNullable(route).map(Route::name),
            reset,
            metadata,
            Duration.ofNanos(System.nanoTime() - startNanos)));
  }

  /**
   * Rule 15: HCM stream_idle_timeout, reset by downstream and upstream activity, not by ext_proc
   * traffic.
   */
  private void resetIdleTimer() {
    if (completed) {
      return;
    }
    if (idleTimerId >= 0) {
      vertx.cancelTimer(idleTimerId);
      idleTimerId = -1;
    }
    long ms = idleTimeout.toMillis();
    if (ms > 0) {
      idleTimerId =
          vertx.setTimer(
              ms,
              id -> {
                idleTimerId = -1;
                owner.stats().inc(ExtProcStats.DOWNSTREAM_RQ_IDLE_TIMEOUT);
                sendLocalReply(408, "stream timeout", h -> {}, "stream_idle_timeout");
              });
    }
  }

  @Override
  public long setTimer(long delayMillis, Runnable action) {
    return vertx.setTimer(delayMillis, id -> action.run());
  }

  @Override
  public void cancelTimer(long id) {
    vertx.cancelTimer(id);
  }

  @Override
  public void runOnStreamThread(Runnable action) {
    context.runOnContext(v -> action.run());
  }

  @Override
  public long bufferLimitBytes() {
    return owner.config().perConnectionBufferLimitBytes();
  }

  @Override
  public Value attribute(String name) {
    // Rule 2: a subset of Envoy's attributes (request.*, response.*, source.*, destination.*).
    MultiMap h = requestHeaders;
    return switch (name) {
      case "request.path" -> str(h.get(":path"));
      case "request.url_path" -> str(h.get(":path").split("\\?", 2)[0]);
      case "request.host" -> str(h.get(":authority"));
      case "request.scheme" -> str(h.get(":scheme"));
      case "request.method" -> str(h.get(":method"));
      case "request.id" -> str(h.get("x-request-id"));
      case "request.protocol" -> str("HTTP/1.1");
      case "request.referer" -> h.contains("referer") ? str(h.get("referer")) : null;
      case "request.useragent" -> h.contains("user-agent") ? str(h.get("user-agent")) : null;
      case "request.headers" -> {
        Struct.Builder s = Struct.newBuilder();
        h.forEach(
            e -> s.putFields(e.getKey(), Value.newBuilder().setStringValue(e.getValue()).build()));
        yield Value.newBuilder().setStructValue(s).build();
      }
      case "response.code" ->
          upstreamResponse == null
              ? null
              : Value.newBuilder().setNumberValue(upstreamResponse.statusCode()).build();
      case "source.address" -> str(request.remoteAddress().toString());
      case "source.port" ->
          Value.newBuilder().setNumberValue(request.remoteAddress().port()).build();
      case "destination.address" -> str(request.localAddress().toString());
      case "destination.port" ->
          Value.newBuilder().setNumberValue(request.localAddress().port()).build();
      default -> null;
    };
  }

  private static Value str(String s) {
    return Value.newBuilder().setStringValue(s == null ? "" : s).build();
  }
}
