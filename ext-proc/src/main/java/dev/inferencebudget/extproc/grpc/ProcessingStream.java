package dev.inferencebudget.extproc.grpc;

import com.google.protobuf.ByteString;
import dev.inferencebudget.extproc.api.ExtProcConfig;
import dev.inferencebudget.extproc.api.ExtProcConfig.RoutingMode;
import dev.inferencebudget.extproc.flow.AdmissionEngine;
import dev.inferencebudget.extproc.flow.FlowListener;
import dev.inferencebudget.extproc.flow.RequestFlow;
import dev.inferencebudget.extproc.flow.Route;
import dev.inferencebudget.extproc.openai.AdmissionError;
import dev.inferencebudget.extproc.openai.OpenAiEndpoint;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ext_proc stream, i.e. one HTTP request, as a state machine over Envoy's message order
 * (request headers → request body → [trailers] → response headers → response body chunks →
 * [trailers]). Every message gets exactly one answer of its own type, in order, except that the
 * request body's answer may be preceded by one {@code override_message_timeout} while the request
 * waits. All state, the flow's included, is guarded by this object's monitor.
 */
final class ProcessingStream implements StreamObserver<ProcessingRequest>, FlowListener {
  private static final Logger log = LoggerFactory.getLogger(ProcessingStream.class);

  private enum Phase {
    /** Before the request headers. */
    START,
    /** Not an OpenAI endpoint: every message continues unchanged. */
    PASS_THROUGH,
    /** An OpenAI request whose body has not come yet. */
    AWAIT_BODY,
    /** The body is being admitted (held, queued); its answer is pending. */
    ADMITTING,
    /** Forwarded: the response path is scanned for usage. */
    FORWARDED,
    /** Answered with an immediate response, or the stream ended. */
    DONE
  }

  private final AdmissionEngine engine;
  private final ExtProcConfig config;
  private final ServerCallStreamObserver<ProcessingResponse> responses;
  private Phase phase = Phase.START;
  private RequestFlow flow;
  private HeaderMap requestHeaders;
  private boolean trailersPending;
  private boolean closed;

  /**
   * Body modes from the first message's {@code protocol_config} (Envoy 1.34+, spec rule 2). Without
   * it the documented configuration is assumed: request BUFFERED, response STREAMED.
   */
  private BodySendMode requestBodyMode = BodySendMode.BUFFERED;

  private BodySendMode responseBodyMode = BodySendMode.STREAMED;

  /** FULL_DUPLEX_STREAMED request: the client's internal headers, removed in the late answer. */
  private List<String> removeHeaders = List.of();

  /** FULL_DUPLEX_STREAMED request: the body so far (Envoy forwards only what we send back). */
  private ByteString.Output streamedBody;

  /** FULL_DUPLEX_STREAMED request: the whole body while it is being admitted. */
  private byte[] admittedBody;

  /** FULL_DUPLEX_STREAMED request: trailers arrived and are answered after the body. */
  private boolean streamedTrailers;

  ProcessingStream(AdmissionEngine engine, StreamObserver<ProcessingResponse> responses) {
    this.engine = engine;
    this.config = engine.config();
    this.responses = (ServerCallStreamObserver<ProcessingResponse>) responses;
    // Envoy ends a stream with a half-close and an immediate RST_STREAM (spec rules 6-7): the
    // cancel, not onError, is what tells us the client is gone.
    this.responses.setOnCancelHandler(this::onCancel);
  }

  @Override
  public synchronized void onNext(ProcessingRequest request) {
    long started = System.nanoTime();
    String type = request.getRequestCase().name().toLowerCase(java.util.Locale.ROOT);
    try {
      dispatch(request);
    } catch (RuntimeException e) {
      // Nothing may escape into gRPC's executor; fail this request closed with a 500.
      log.warn("ext_proc message {} failed", type, e);
      if (phase != Phase.DONE && !closed) {
        phase = Phase.DONE;
        if (flow != null) {
          flow.close(true);
        }
        send(
            EnvoyResponses.immediate(
                new AdmissionError(
                    500,
                    "internal_error",
                    "server_error",
                    "The admission server failed to process the request.",
                    Optional.empty(),
                    Optional.empty(),
                    Map.of())));
      }
    } finally {
      engine.metrics().message(type, System.nanoTime() - started);
    }
  }

  private void dispatch(ProcessingRequest request) {
    if (closed) {
      return;
    }
    if (request.hasProtocolConfig()) {
      requestBodyMode = request.getProtocolConfig().getRequestBodyMode();
      responseBodyMode = request.getProtocolConfig().getResponseBodyMode();
    }
    switch (request.getRequestCase()) {
      case REQUEST_HEADERS -> onRequestHeaders(request.getRequestHeaders());
      case REQUEST_BODY -> onRequestBody(request.getRequestBody());
      case REQUEST_TRAILERS -> {
        if (phase == Phase.AWAIT_BODY && fullDuplexRequest()) {
          // The body ended with trailers: admit it; the trailers are answered after the body.
          streamedTrailers = true;
          admit(streamedBody.toByteString().toByteArray());
        } else if (phase == Phase.ADMITTING) {
          trailersPending = true; // answered after the body's answer, to keep the order
        } else if (phase != Phase.DONE) {
          send(EnvoyResponses.CONTINUE_REQUEST_TRAILERS);
        }
      }
      case RESPONSE_HEADERS -> onResponseHeaders(request.getResponseHeaders());
      case RESPONSE_BODY -> onResponseBody(request.getResponseBody());
      case RESPONSE_TRAILERS -> {
        if (flow != null) {
          flow.complete();
        }
        if (phase != Phase.DONE || flow != null) {
          send(EnvoyResponses.CONTINUE_RESPONSE_TRAILERS);
        }
      }
      case REQUEST_NOT_SET -> log.debug("ext_proc message without a request");
    }
  }

  private void onRequestHeaders(HttpHeaders headers) {
    if (phase != Phase.START) {
      return;
    }
    requestHeaders = headers.getHeaders();
    List<String> remove = internalHeadersPresent();
    Optional<OpenAiEndpoint> endpoint = OpenAiEndpoint.ofPath(header(":path"));
    if (endpoint.isEmpty()) {
      // Not ours: untouched, except that nobody may pick a model or an endpoint for us.
      phase = Phase.PASS_THROUGH;
      send(EnvoyResponses.requestHeaders(remove));
      return;
    }
    String method = header(":method");
    if (endpoint.get() == OpenAiEndpoint.MODELS) {
      if ("GET".equals(method)) {
        phase = Phase.DONE;
        engine.metrics().request(ExtProcModelLabels.NONE, "answered", "models");
        send(EnvoyResponses.immediateJson(engine.modelList()));
      } else {
        refuseNow(methodNotAllowed(method, endpoint.get()));
      }
      return;
    }
    if (!"POST".equals(method)) {
      refuseNow(methodNotAllowed(method, endpoint.get()));
      return;
    }
    if (headers.getEndOfStream()) {
      refuseNow(
          AdmissionError.invalidRequest(
              "The request has no body; expected a JSON object.", null, "missing_body"));
      return;
    }
    if (requestBodyMode == BodySendMode.STREAMED) {
      // Spec rule 9: in STREAMED mode Envoy ignores header mutations in body answers, and the
      // headers are gone before the body arrives: the request could not be routed by its model.
      refuseNow(unsupportedBodyMode("STREAMED"));
      return;
    }
    phase = Phase.AWAIT_BODY;
    flow = engine.newFlow(endpoint.get(), this::header, this, this);
    if (fullDuplexRequest()) {
      // Spec rule 11: the headers' answer waits for the body, which arrives meanwhile.
      removeHeaders = remove;
      streamedBody = ByteString.newOutput();
      return;
    }
    send(EnvoyResponses.requestHeaders(remove));
  }

  private boolean fullDuplexRequest() {
    return requestBodyMode == BodySendMode.FULL_DUPLEX_STREAMED;
  }

  private static AdmissionError unsupportedBodyMode(String mode) {
    return new AdmissionError(
        500,
        "unsupported_body_mode",
        "server_error",
        "The gateway's ext_proc filter sends request bodies in "
            + mode
            + " mode, in which requests cannot be routed by model; configure request_body_mode"
            + " BUFFERED or FULL_DUPLEX_STREAMED.",
        Optional.empty(),
        Optional.empty(),
        Map.of());
  }

  private static AdmissionError tooLarge(long limitBytes) {
    return new AdmissionError(
        413,
        "request_too_large",
        AdmissionError.INVALID_REQUEST,
        "The request body is larger than " + limitBytes + " bytes.",
        Optional.empty(),
        Optional.empty(),
        Map.of());
  }

  private void onRequestBody(HttpBody body) {
    switch (phase) {
      case PASS_THROUGH -> {
        if (fullDuplexRequest()) {
          send(EnvoyResponses.streamedBody(true, body.getBody(), body.getEndOfStream()));
        } else {
          send(EnvoyResponses.CONTINUE_REQUEST_BODY);
        }
      }
      case AWAIT_BODY -> {
        ByteString bytes = body.getBody();
        if (fullDuplexRequest()) {
          // Accumulate up to the body limit (FDS has no 413 of its own: spec rule 11).
          if (streamedBody.size() + (long) bytes.size() > config.maxRequestBodyBytes()) {
            streamedBody = null;
            refuseNow(tooLarge(config.maxRequestBodyBytes()));
            return;
          }
          streamedBody.write(bytes.toByteArray(), 0, bytes.size());
          if (body.getEndOfStream()) {
            admit(streamedBody.toByteString().toByteArray());
          }
          return;
        }
        if (bytes.size() > config.maxRequestBodyBytes()) {
          refuseNow(tooLarge(config.maxRequestBodyBytes()));
          return;
        }
        if (requestBodyMode == BodySendMode.BUFFERED_PARTIAL && !body.getEndOfStream()) {
          // Spec rule 10: the body was cut at Envoy's buffer limit; the rest would pass unparsed.
          refuseNow(tooLarge(bytes.size()));
          return;
        }
        admit(bytes.toByteArray());
      }
      case ADMITTING -> {
        if (fullDuplexRequest()) {
          return; // nothing follows a complete body; an answer here would be spurious
        }
        // A second chunk: Envoy streams the body (STREAMED, not announced by an older Envoy
        // without protocol_config). The first chunk was never a whole body: give back what the
        // request took and refuse it clearly rather than route it unadmitted.
        flow.close(true);
        refuseNow(unsupportedBodyMode("STREAMED"));
      }
      case FORWARDED, START, DONE -> {
        // Continue so Envoy is never left waiting.
        if (phase != Phase.DONE && !fullDuplexRequest()) {
          send(EnvoyResponses.CONTINUE_REQUEST_BODY);
        }
      }
    }
  }

  private void admit(byte[] body) {
    phase = Phase.ADMITTING;
    streamedBody = null;
    if (fullDuplexRequest()) {
      admittedBody = body; // sent back once admitted
    }
    flow.onBody(body);
  }

  private void onResponseHeaders(HttpHeaders headers) {
    if (phase == Phase.DONE && flow == null) {
      return;
    }
    Map<String, String> add = Map.of();
    if (flow != null && phase == Phase.FORWARDED) {
      HeaderMap map = headers.getHeaders();
      int status = parseStatus(header(map, ":status"));
      add =
          flow.onResponseHeaders(
              status, header(map, "content-type"), header(map, "content-encoding"));
      if (headers.getEndOfStream()) {
        flow.complete();
      }
    }
    send(EnvoyResponses.responseHeaders(add));
  }

  private void onResponseBody(HttpBody body) {
    if (phase == Phase.DONE && flow == null) {
      return;
    }
    if (flow != null && phase == Phase.FORWARDED) {
      flow.onResponseBody(body.getBody().asReadOnlyByteBuffer(), body.getEndOfStream());
    }
    if (responseBodyMode == BodySendMode.FULL_DUPLEX_STREAMED) {
      send(EnvoyResponses.streamedBody(false, body.getBody(), body.getEndOfStream()));
    } else {
      send(EnvoyResponses.CONTINUE_RESPONSE_BODY);
    }
  }

  // FlowListener: called by the flow under this object's monitor.

  @Override
  public synchronized void waiting(Duration overrideMessageTimeout) {
    // In FULL_DUPLEX_STREAMED no message timer runs and an override is ignored (spec rule 12).
    if (phase == Phase.ADMITTING && !fullDuplexRequest()) {
      send(EnvoyResponses.overrideTimeout(overrideMessageTimeout));
    }
  }

  @Override
  public synchronized void proceed(Route route) {
    if (phase != Phase.ADMITTING) {
      return;
    }
    phase = Phase.FORWARDED;
    Map<String, String> set = new LinkedHashMap<>(route.extraHeaders());
    com.google.protobuf.Struct metadata = null;
    if (config.routingMode() == RoutingMode.ENDPOINT_PICKER && route.endpoint().isPresent()) {
      // The header names the primary only (ORIGINAL_DST reads a literal ip:port, spec rule 24);
      // the metadata lists the fallbacks after it, comma-separated (GIE endpoint-picker protocol).
      List<String> destinations = engine.destinations(route);
      set.put(ExtProcConfig.DESTINATION_ENDPOINT_HEADER, destinations.get(0));
      metadata =
          EnvoyResponses.endpointMetadata(
              ExtProcConfig.ENVOY_LB_NAMESPACE,
              ExtProcConfig.DESTINATION_ENDPOINT_HEADER,
              String.join(",", destinations));
    } else {
      set.put(config.routingHeader(), route.modelKey());
    }
    if (fullDuplexRequest()) {
      proceedFullDuplex(set, route, metadata);
      return;
    }
    send(EnvoyResponses.route(set, route.rewrittenBody().orElse(null), metadata));
    if (trailersPending) {
      trailersPending = false;
      send(EnvoyResponses.CONTINUE_REQUEST_TRAILERS);
    }
  }

  /** Largest piece of a body sent back in one FULL_DUPLEX_STREAMED message. */
  static final int STREAMED_PIECE_BYTES = 1024 * 1024;

  /**
   * FULL_DUPLEX_STREAMED (spec rule 11): the delayed headers answer with the route, then every byte
   * of the (possibly rewritten) body back in order, then the trailers' answer if any.
   */
  private void proceedFullDuplex(
      Map<String, String> set, Route route, com.google.protobuf.Struct metadata) {
    send(EnvoyResponses.routeHeaders(set, removeHeaders, metadata));
    ByteString body = ByteString.copyFrom(route.rewrittenBody().orElse(admittedBody));
    admittedBody = null;
    int offset = 0;
    do {
      int end = Math.min(body.size(), offset + STREAMED_PIECE_BYTES);
      boolean last = end == body.size();
      send(
          EnvoyResponses.streamedBody(
              true, body.substring(offset, end), last && !streamedTrailers));
      offset = end;
    } while (offset < body.size());
    if (streamedTrailers) {
      send(EnvoyResponses.CONTINUE_REQUEST_TRAILERS);
    }
  }

  @Override
  public synchronized void refuse(AdmissionError error) {
    if (phase == Phase.DONE) {
      return;
    }
    phase = Phase.DONE;
    admittedBody = null;
    send(EnvoyResponses.immediate(error));
  }

  private void refuseNow(AdmissionError error) {
    phase = Phase.DONE;
    engine.metrics().request(ExtProcModelLabels.NONE, "rejected", error.code());
    send(EnvoyResponses.immediate(error));
  }

  @Override
  public synchronized void onError(Throwable t) {
    onCancel();
  }

  @Override
  public synchronized void onCompleted() {
    // Envoy half-closes after its last expected answer; a request still admitting means the
    // downstream went away (the cancel follows at once).
    boolean abandoned = phase == Phase.ADMITTING || phase == Phase.AWAIT_BODY;
    if (flow != null) {
      flow.close(abandoned);
    }
    if (!closed) {
      closed = true;
      try {
        responses.onCompleted();
      } catch (RuntimeException e) {
        log.debug("completing a cancelled stream", e);
      }
    }
  }

  private synchronized void onCancel() {
    closed = true;
    if (flow != null) {
      flow.close(true);
    }
    phase = Phase.DONE;
  }

  private void send(ProcessingResponse response) {
    if (closed) {
      return; // the client is gone: a late answer is never sent
    }
    try {
      responses.onNext(response);
    } catch (RuntimeException e) {
      // Cancelled between the check and the send.
      closed = true;
      log.debug("answer dropped on a closed stream", e);
    }
  }

  /** Client copies of the headers that steer routing; they must never reach Envoy's router. */
  private List<String> internalHeadersPresent() {
    List<String> remove = new ArrayList<>(2);
    for (HeaderValue h : requestHeaders.getHeadersList()) {
      String key = h.getKey().toLowerCase(java.util.Locale.ROOT);
      if ((key.equals(config.routingHeader())
              || key.equals(ExtProcConfig.DESTINATION_ENDPOINT_HEADER))
          && !remove.contains(key)) {
        remove.add(key);
      }
    }
    return remove;
  }

  private String header(String name) {
    return header(requestHeaders, name);
  }

  /** A header's value: {@code raw_value} (what Envoy sends by default), else {@code value}. */
  static String header(HeaderMap headers, String name) {
    if (headers == null) {
      return null;
    }
    for (HeaderValue h : headers.getHeadersList()) {
      if (h.getKey().equalsIgnoreCase(name)) {
        return h.getRawValue().isEmpty()
            ? h.getValue()
            : h.getRawValue().toString(StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  private static int parseStatus(String status) {
    if (status == null) {
      return 0;
    }
    try {
      return Integer.parseInt(status.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static AdmissionError methodNotAllowed(String method, OpenAiEndpoint endpoint) {
    return new AdmissionError(
        405,
        "method_not_allowed",
        AdmissionError.INVALID_REQUEST,
        "Method " + method + " is not allowed on " + endpoint.path() + ".",
        Optional.empty(),
        Optional.empty(),
        Map.of());
  }
}
