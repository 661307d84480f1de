package dev.inferencebudget.harness.envoy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor.RouteCacheAction;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.HeaderSendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpTrailers;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration;
import io.envoyproxy.envoy.service.ext_proc.v3.TrailersResponse;
import io.grpc.Status;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The ext_proc HTTP filter for one request: Envoy's {@code Filter} and its two {@code
 * ProcessorState}s (CC, PS), following the spec's rules. Every method runs on the HTTP stream's
 * event-loop thread; gRPC callbacks are moved there first, so the state needs no locks (the same
 * single-threaded model as Envoy's worker).
 */
final class ExtProcFilter {
  /** Envoy's filter name, the key of {@code attributes} (rule 2). */
  static final String FILTER_NAME = "envoy.filters.http.ext_proc";

  static final String DETAILS_MESSAGE_TIMEOUT = "ext_proc_error_per-message_timeout_exceeded";
  // Not confirmed in Envoy's source (the spec gives no details string for a fail-closed spurious
  // message).
  static final String DETAILS_SPURIOUS = "ext_proc_error_spurious_message";

  /** Where a direction is in its exchange with the server (PS {@code CallbackState}). */
  enum CallbackState {
    IDLE,
    HEADERS,
    BUFFERED_BODY,
    STREAMED_BODY,
    BUFFERED_PARTIAL_BODY,
    TRAILERS
  }

  /** A message out of order or of the wrong type (Envoy: FailedPrecondition → spurious, rule 4). */
  private static final class SpuriousException extends Exception {
    private static final long serialVersionUID = 1L;

    SpuriousException(String message) {
      super(message, null, false, false);
    }
  }

  private record Chunk(Buffer data, boolean endStream) {}

  private final ExtProcFilterConfig config;
  private final ExtProcClient client;
  private final ExtProcStats stats;
  private final FilterCallbacks callbacks;
  private final DirectionState decoding;
  private final DirectionState encoding;
  private final Map<String, Struct> dynamicMetadata = new LinkedHashMap<>();

  private ExtProcClient.Stream stream;
  private boolean processingComplete;
  private boolean firstMessageSent;

  ExtProcFilter(
      ExtProcFilterConfig config,
      ExtProcClient client,
      ExtProcStats stats,
      FilterCallbacks callbacks) {
    this.config = Objects.requireNonNull(config, "config");
    this.client = Objects.requireNonNull(client, "client");
    this.stats = Objects.requireNonNull(stats, "stats");
    this.callbacks = Objects.requireNonNull(callbacks, "callbacks");
    this.decoding = new DirectionState(true, callbacks.decodingSink());
    this.encoding = new DirectionState(false, callbacks.encodingSink());
    decoding.setMode(config.processingMode());
    encoding.setMode(config.processingMode());
  }

  Map<String, Struct> dynamicMetadata() {
    return dynamicMetadata;
  }

  // ---------------------------------------------------------------------------------------------
  // Data path (Envoy's decodeHeaders/decodeData/encodeHeaders/encodeData/encodeTrailers)

  void decodeHeaders(MultiMap headers, boolean endStream) {
    onHeaders(decoding, headers, endStream);
  }

  void decodeData(Buffer data, boolean endStream) {
    onData(decoding, data, endStream);
  }

  void decodeTrailers(MultiMap trailers) {
    onTrailers(decoding, trailers);
  }

  void encodeHeaders(MultiMap headers, boolean endStream) {
    onHeaders(encoding, headers, endStream);
  }

  void encodeData(Buffer data, boolean endStream) {
    onData(encoding, data, endStream);
  }

  void encodeTrailers(MultiMap trailers) {
    onTrailers(encoding, trailers);
  }

  /** The stream ends (completed, local reply, reset or downstream disconnect): rules 6 and 7. */
  void onDestroy() {
    processingComplete = true;
    decoding.stopTimer();
    encoding.stopTimer();
    closeStream();
  }

  private void onHeaders(DirectionState s, MultiMap headers, boolean endStream) {
    s.headers = headers;
    s.headersEndStream = endStream;
    if (endStream) {
      s.completeBodyAvailable = true;
    }
    if (processingComplete || !ExtProcFilterConfig.sendsHeaders(s.headerMode)) {
      // Skipped headers continue at once; the body may still be sent (rule 3).
      s.continueHeaders();
      if (endStream) {
        s.finished = true;
        maybeCloseStream();
      }
      return;
    }
    if (!openStream()) {
      return;
    }
    HttpHeaders.Builder h =
        HttpHeaders.newBuilder().setHeaders(toHeaderMap(headers)).setEndOfStream(endStream);
    ProcessingRequest.Builder req = newRequest(s);
    if (s.decoding) {
      req.setRequestHeaders(h);
    } else {
      req.setResponseHeaders(h);
    }
    s.startCall(CallbackState.HEADERS);
    send(req);
  }

  private void onData(DirectionState s, Buffer data, boolean endStream) {
    if (endStream) {
      s.completeBodyAvailable = true;
    }
    if (s.bodyReplaced) {
      // Rule 20: after CONTINUE_AND_REPLACE the rest of the body is dropped.
      return;
    }
    if (processingComplete) {
      s.passThrough(data, endStream);
      return;
    }
    if (s.bodyMode == BodySendMode.FULL_DUPLEX_STREAMED) {
      // Rule 11: chunks go out as they arrive, even while the headers response is pending; no
      // queue, no 413, no
      // timer. The server must send every byte back.
      if (openStream()) {
        sendBody(s, data, endStream);
        if (endStream) {
          s.bodyEndSent = true;
        }
      }
      return;
    }
    if (s.state == CallbackState.HEADERS) {
      // CC onData: header processing in progress; hold the data and raise a watermark (rule 8 flow
      // control).
      s.held.appendBuffer(data);
      if (s.held.length() > callbacks.bufferLimitBytes()) {
        s.sink.pauseSource();
      }
      return;
    }
    switch (s.bodyMode) {
      case BUFFERED -> {
        s.held.appendBuffer(data);
        if (overBufferLimit(s)) {
          return;
        }
        if (endStream && openStream()) {
          sendBufferedBody(s, true);
        }
      }
      case STREAMED -> {
        if (!s.headersContinued) {
          s.held.appendBuffer(data);
          return;
        }
        if (openStream()) {
          sendStreamedChunk(s, data, endStream);
        }
      }
      case BUFFERED_PARTIAL -> onPartialData(s, data, endStream);
      default -> s.passThrough(data, endStream);
    }
  }

  private void onPartialData(DirectionState s, Buffer data, boolean endStream) {
    // Rule 10: as BUFFERED up to the limit; then what there is goes out with end_of_stream=false
    // and the rest passes
    // through unprocessed.
    if (s.partialBodyProcessed) {
      s.passThrough(data, endStream);
      return;
    }
    s.held.appendBuffer(data);
    if (s.state == CallbackState.BUFFERED_PARTIAL_BODY) {
      return;
    }
    if ((endStream || s.held.length() >= callbacks.bufferLimitBytes()) && openStream()) {
      sendPartialBody(s);
    }
  }

  private void onTrailers(DirectionState s, MultiMap trailers) {
    s.trailers = trailers;
    s.completeBodyAvailable = true;
    if (processingComplete) {
      s.flushAndForwardTrailers();
      return;
    }
    if (s.bodyMode == BodySendMode.FULL_DUPLEX_STREAMED) {
      // Rule 11: in FDS everything goes out as it arrives (trailer mode is SEND by config
      // validation).
      if (openStream()) {
        s.fdsTrailersSent = true;
        sendTrailersMessage(s);
      }
      return;
    }
    if (s.state != CallbackState.IDLE) {
      // Previous callback still running: trailers are handled when it completes.
      s.trailersPending = true;
      return;
    }
    processTrailers(s);
  }

  private void processTrailers(DirectionState s) {
    s.trailersPending = false;
    if (s.bodyMode == BodySendMode.BUFFERED && !s.bodyEndSent && s.headersContinuedOrHeld()) {
      // The body is complete now that trailers arrived: send it with end_of_stream=false (rule 8).
      if (openStream()) {
        sendBufferedBody(s, false);
      }
      return;
    }
    if (s.bodyMode == BodySendMode.BUFFERED_PARTIAL && !s.partialBodyProcessed) {
      if (openStream()) {
        sendPartialBody(s);
      }
      return;
    }
    if (!ExtProcFilterConfig.sendsTrailers(s.trailerMode)) {
      s.flushAndForwardTrailers();
      s.finished = true;
      maybeCloseStream();
      return;
    }
    if (!openStream()) {
      return;
    }
    s.startCall(CallbackState.TRAILERS);
    sendTrailersMessage(s);
  }

  private void sendTrailersMessage(DirectionState s) {
    HttpTrailers.Builder t = HttpTrailers.newBuilder().setTrailers(toHeaderMap(s.trailers));
    ProcessingRequest.Builder req = newRequest(s);
    if (s.decoding) {
      req.setRequestTrailers(t);
    } else {
      req.setResponseTrailers(t);
    }
    send(req);
  }

  private boolean overBufferLimit(DirectionState s) {
    if (s.held.length() <= callbacks.bufferLimitBytes()) {
      return false;
    }
    processingComplete = true;
    s.stopTimer();
    closeStream();
    if (s.decoding) {
      // Rule 8 (FM requestDataTooLarge): 413 and the server never sees the body.
      stats.inc(ExtProcStats.DOWNSTREAM_RQ_TOO_LARGE);
      callbacks.sendLocalReply(413, "Payload Too Large", h -> {}, "request_payload_too_large");
    } else {
      // FM responseDataTooLarge; the spec notes this 500 is not confirmed in source.
      callbacks.sendLocalReply(500, "Internal Server Error", h -> {}, "response_payload_too_large");
    }
    return true;
  }

  private void sendBufferedBody(DirectionState s, boolean endStream) {
    s.startCall(CallbackState.BUFFERED_BODY);
    s.bodyEndSent = true;
    sendBody(s, s.held, endStream);
  }

  private void sendPartialBody(DirectionState s) {
    boolean endStream = s.completeBodyAvailable && s.trailers == null;
    s.partialSentBytes = s.held.length();
    s.startCall(CallbackState.BUFFERED_PARTIAL_BODY);
    sendBody(s, s.held, endStream);
  }

  private void sendStreamedChunk(DirectionState s, Buffer data, boolean endStream) {
    s.chunks.addLast(new Chunk(data, endStream));
    // Rule 9: chunks are pipelined; each one arms message_timeout.
    s.startCall(CallbackState.STREAMED_BODY);
    if (endStream) {
      s.bodyEndSent = true;
    }
    sendBody(s, data, endStream);
  }

  private void sendBody(DirectionState s, Buffer data, boolean endStream) {
    // getBytes() already copies; wrapping that copy avoids a second one for large BUFFERED bodies.
    HttpBody.Builder body =
        HttpBody.newBuilder()
            .setBody(UnsafeByteOperations.unsafeWrap(data.getBytes()))
            .setEndOfStream(endStream);
    ProcessingRequest.Builder req = newRequest(s);
    if (s.decoding) {
      req.setRequestBody(body);
    } else {
      req.setResponseBody(body);
    }
    send(req);
  }

  // ---------------------------------------------------------------------------------------------
  // The gRPC stream

  /**
   * Rule 1: one stream per request, opened lazily. False if processing cannot go on (a reply was
   * sent).
   */
  private boolean openStream() {
    if (processingComplete) {
      return false;
    }
    if (stream != null) {
      return true;
    }
    stream =
        client.open(
            new ExtProcClient.Listener() {
              @Override
              public void onMessage(ProcessingResponse response) {
                callbacks.runOnStreamThread(() -> onReceiveMessage(response));
              }

              @Override
              public void onClose(Status status) {
                callbacks.runOnStreamThread(
                    () -> {
                      if (status.isOk()) {
                        onGrpcClose();
                      } else {
                        onGrpcError(status);
                      }
                    });
              }
            });
    if (stream == null) {
      // The ext_proc cluster's circuit breaker is open: the stream cannot start (conformance case
      // 19).
      onGrpcError(Status.UNAVAILABLE.withDescription("ext_proc cluster overflow"));
      return false;
    }
    stats.inc(ExtProcStats.STREAMS_STARTED);
    return true;
  }

  private void send(ProcessingRequest.Builder req) {
    if (!firstMessageSent) {
      // Rule 2: protocol_config only on the stream's first message (1.34+).
      firstMessageSent = true;
      req.setProtocolConfig(
          ProtocolConfiguration.newBuilder()
              .setRequestBodyMode(decoding.bodyMode)
              .setResponseBodyMode(encoding.bodyMode));
    }
    stream.send(req.build());
    stats.inc(ExtProcStats.STREAM_MSGS_SENT);
  }

  private ProcessingRequest.Builder newRequest(DirectionState s) {
    ProcessingRequest.Builder req = ProcessingRequest.newBuilder();
    // Rule 2: metadata_context carries only the forwarding namespaces.
    Metadata.Builder md = Metadata.newBuilder();
    for (String ns : config.forwardingNamespaces()) {
      Struct v = dynamicMetadata.get(ns);
      if (v != null) {
        md.putFilterMetadata(ns, v);
      }
    }
    req.setMetadataContext(md);
    // Rule 2: attributes on the first message of each direction.
    var names = s.decoding ? config.requestAttributes() : config.responseAttributes();
    if (!s.sentAttributes && !names.isEmpty()) {
      s.sentAttributes = true;
      Struct.Builder attrs = Struct.newBuilder();
      for (String name : names) {
        Value v = callbacks.attribute(name);
        if (v != null) {
          attrs.putFields(name, v);
        }
      }
      req.putAttributes(FILTER_NAME, attrs.build());
    }
    return req;
  }

  /** Rule 6: close when the last expected response has arrived (stream close optimization). */
  private void maybeCloseStream() {
    if (stream != null && decoding.noMoreMessages() && encoding.noMoreMessages()) {
      closeStream();
      processingComplete = true;
    }
  }

  private void closeStream() {
    if (stream != null) {
      stream.close();
      stream = null;
      stats.inc(ExtProcStats.STREAMS_CLOSED);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Responses (CC onReceiveMessage)

  private void onReceiveMessage(ProcessingResponse response) {
    if (processingComplete) {
      // Rule 4: anything after processing completes is ignored.
      return;
    }
    if (response.hasOverrideMessageTimeout()) {
      // Rule 13: an override only restarts the timer; the rest of the response is ignored.
      onNewTimeout(
          Duration.ofSeconds(
              response.getOverrideMessageTimeout().getSeconds(),
              response.getOverrideMessageTimeout().getNanos()));
      return;
    }
    if (response.hasModeOverride() && modeOverrideAllowed(response.getModeOverride())) {
      decoding.setMode(response.getModeOverride());
      encoding.setMode(response.getModeOverride());
    }
    try {
      switch (response.getResponseCase()) {
        case REQUEST_HEADERS -> {
          setDynamicMetadata(response);
          handleHeadersResponse(decoding, response.getRequestHeaders().getResponse());
        }
        case RESPONSE_HEADERS -> {
          setDynamicMetadata(response);
          handleHeadersResponse(encoding, response.getResponseHeaders().getResponse());
        }
        case REQUEST_BODY -> {
          setDynamicMetadata(response);
          handleBodyResponse(decoding, response.getRequestBody().getResponse());
        }
        case RESPONSE_BODY -> {
          setDynamicMetadata(response);
          handleBodyResponse(encoding, response.getResponseBody().getResponse());
        }
        case REQUEST_TRAILERS -> {
          setDynamicMetadata(response);
          handleTrailersResponse(decoding, response.getRequestTrailers());
        }
        case RESPONSE_TRAILERS -> {
          setDynamicMetadata(response);
          handleTrailersResponse(encoding, response.getResponseTrailers());
        }
        case IMMEDIATE_RESPONSE -> {
          if (config.disableImmediateResponse()) {
            throw new SpuriousException("immediate response disabled by config"); // rule 17
          }
          setDynamicMetadata(response);
          stats.inc(ExtProcStats.STREAM_MSGS_RECEIVED);
          processingComplete = true;
          decoding.stopTimer();
          encoding.stopTimer();
          closeStream();
          sendImmediateResponse(response.getImmediateResponse());
          return;
        }
        default -> throw new SpuriousException("unhandled message");
      }
      stats.inc(ExtProcStats.STREAM_MSGS_RECEIVED);
      maybeCloseStream();
    } catch (SpuriousException e) {
      onSpurious();
    } catch (HeaderMutations.MutationException e) {
      // CC: any other processing error is an immediate 500 with the error as details.
      stats.inc(ExtProcStats.STREAM_MSGS_RECEIVED);
      processingComplete = true;
      decoding.stopTimer();
      encoding.stopTimer();
      closeStream();
      sendImmediateResponse(
          ImmediateResponse.newBuilder()
              .setStatus(io.envoyproxy.envoy.type.v3.HttpStatus.newBuilder().setCodeValue(500))
              .setDetails(e.getMessage())
              .build());
    }
  }

  /**
   * Rule 3: only for a headers response, only if allowed, never with FDS, within
   * allowed_override_modes.
   */
  private boolean modeOverrideAllowed(ProcessingMode requested) {
    if (!config.allowModeOverride() || !inHeaderProcessState()) {
      return false;
    }
    ProcessingMode configured = config.processingMode();
    if (configured.getRequestBodyMode() == BodySendMode.FULL_DUPLEX_STREAMED
        || configured.getResponseBodyMode() == BodySendMode.FULL_DUPLEX_STREAMED) {
      return false;
    }
    return config.allowedOverrideModes().isEmpty()
        || config.allowedOverrideModes().contains(requested);
  }

  private boolean inHeaderProcessState() {
    return decoding.state == CallbackState.HEADERS || encoding.state == CallbackState.HEADERS;
  }

  private void handleHeadersResponse(DirectionState s, CommonResponse response)
      throws SpuriousException, HeaderMutations.MutationException {
    if (s.state != CallbackState.HEADERS) {
      throw new SpuriousException("headers response in state " + s.state);
    }
    if (response.hasHeaderMutation()) {
      applyMutation(response.getHeaderMutation(), s.headers);
    }
    maybeClearRouteCache(s, response);
    s.finishCall();
    if (response.getStatus() == CommonResponse.ResponseStatus.CONTINUE_AND_REPLACE) {
      // Rule 20: apply the mutation, replace the body, stop further body/trailer messages in this
      // direction.
      Buffer body = Buffer.buffer(response.getBodyMutation().getBody().toByteArray());
      s.bodyReplaced = true;
      s.held = Buffer.buffer();
      s.chunks.clear();
      s.headers.set("content-length", Integer.toString(body.length()));
      s.continueHeaders();
      s.sink.data(body, true);
      s.finished = true;
      s.sink.resumeSource();
      return;
    }
    if (s.headersEndStream) {
      s.continueHeaders();
      s.finished = true;
      return;
    }
    switch (s.bodyMode) {
      case BUFFERED -> {
        // Headers stay held until the body response (rule 8).
        if (overBufferLimit(s)) {
          return;
        }
        if (s.completeBodyAvailable && s.trailers == null) {
          sendBufferedBody(s, true);
        } else if (s.trailers != null) {
          processTrailers(s);
        } else {
          s.sink.resumeSource();
        }
      }
      case BUFFERED_PARTIAL -> {
        if (s.completeBodyAvailable || s.held.length() >= callbacks.bufferLimitBytes()) {
          sendPartialBody(s);
        } else {
          s.sink.resumeSource();
        }
      }
      case STREAMED -> {
        s.continueHeaders();
        if (s.held.length() > 0 || s.completeBodyAvailable) {
          Buffer data = s.held;
          s.held = Buffer.buffer();
          sendStreamedChunk(s, data, s.completeBodyAvailable && s.trailers == null);
        } else if (s.trailers != null) {
          processTrailers(s);
        }
        s.sink.resumeSource();
      }
      case FULL_DUPLEX_STREAMED -> s.continueHeaders();
      default -> {
        s.continueHeaders();
        s.flushHeld(s.completeBodyAvailable && s.trailers == null);
        if (s.trailers != null) {
          processTrailers(s);
        } else if (s.completeBodyAvailable) {
          s.finished = true;
        }
        s.sink.resumeSource();
      }
    }
  }

  private void handleBodyResponse(DirectionState s, CommonResponse response)
      throws SpuriousException, HeaderMutations.MutationException {
    BodyMutation mutation = response.getBodyMutation();
    boolean streamedResponse = mutation.hasStreamedResponse();
    if (s.bodyMode == BodySendMode.FULL_DUPLEX_STREAMED) {
      // Rule 11: only streamed_response, only after the headers response, any number of them.
      if (!streamedResponse || !s.headersContinued || s.fdsBodyDone) {
        throw new SpuriousException("body response not valid in FULL_DUPLEX_STREAMED");
      }
      var sr = mutation.getStreamedResponse();
      s.sink.data(Buffer.buffer(sr.getBody().toByteArray()), sr.getEndOfStream());
      if (sr.getEndOfStream()) {
        s.fdsBodyDone = true;
        s.finished = true;
      }
      return;
    }
    if (streamedResponse) {
      throw new SpuriousException("streamed_response outside FULL_DUPLEX_STREAMED"); // rule 11
    }
    switch (s.state) {
      case BUFFERED_BODY -> {
        if (!s.headersContinued) {
          // Rule 8: headers are still held, so a header mutation applies.
          if (response.hasHeaderMutation()) {
            applyMutation(response.getHeaderMutation(), s.headers);
          }
          maybeClearRouteCache(s, response);
        }
        Buffer body = s.held;
        boolean replaced = false;
        if (mutation.hasBody()) {
          body = Buffer.buffer(mutation.getBody().toByteArray());
          replaced = true;
        } else if (mutation.getClearBody()) {
          body = Buffer.buffer();
          replaced = true;
        }
        if (replaced && !s.headersContinued) {
          String contentLength = s.headers.get("content-length");
          // PS: a replaced body must match a content-length that is present.
          if (contentLength != null && !contentLength.equals(Integer.toString(body.length()))) {
            throw new HeaderMutations.MutationException(
                "mismatch between content length and the length of the mutated body");
          }
        }
        s.finishCall();
        s.held = Buffer.buffer();
        s.continueHeaders();
        boolean endStream = s.trailers == null;
        s.sink.data(body, endStream);
        if (endStream) {
          s.finished = true;
        } else {
          processTrailers(s);
        }
      }
      case STREAMED_BODY -> {
        // Rule 9: one response per chunk, in order; header mutations are ignored.
        Chunk chunk = s.chunks.pollFirst();
        Buffer out = chunk.data();
        if (mutation.hasBody()) {
          out = Buffer.buffer(mutation.getBody().toByteArray());
        } else if (mutation.getClearBody()) {
          out = Buffer.buffer();
        }
        s.sink.data(out, chunk.endStream());
        if (s.chunks.isEmpty()) {
          s.finishCall();
          if (chunk.endStream()) {
            s.finished = true;
          } else if (s.trailersPending) {
            processTrailers(s);
          }
        } else {
          s.restartTimer(config.messageTimeout());
        }
      }
      case BUFFERED_PARTIAL_BODY -> {
        if (!s.headersContinued && response.hasHeaderMutation()) {
          applyMutation(response.getHeaderMutation(), s.headers);
        }
        maybeClearRouteCache(s, response);
        Buffer sent = s.held.getBuffer(0, s.partialSentBytes);
        Buffer rest = s.held.getBuffer(s.partialSentBytes, s.held.length());
        Buffer body = sent;
        if (mutation.hasBody()) {
          body = Buffer.buffer(mutation.getBody().toByteArray());
        } else if (mutation.getClearBody()) {
          body = Buffer.buffer();
        }
        s.finishCall();
        s.partialBodyProcessed = true;
        s.held = Buffer.buffer();
        s.continueHeaders();
        boolean allSent = s.completeBodyAvailable && rest.length() == 0 && s.trailers == null;
        s.sink.data(body, allSent);
        if (rest.length() > 0 || (s.completeBodyAvailable && !allSent && s.trailers == null)) {
          s.sink.data(rest, s.completeBodyAvailable && s.trailers == null);
        }
        if (s.trailers != null) {
          processTrailers(s);
        } else if (s.completeBodyAvailable) {
          s.finished = true;
        }
        s.sink.resumeSource();
      }
      default -> throw new SpuriousException("body response in state " + s.state);
    }
  }

  private void handleTrailersResponse(DirectionState s, TrailersResponse response)
      throws SpuriousException, HeaderMutations.MutationException {
    boolean fullDuplex =
        s.bodyMode == BodySendMode.FULL_DUPLEX_STREAMED
            && s.fdsTrailersSent
            && s.headersContinued
            && !s.trailersForwarded;
    if (s.state != CallbackState.TRAILERS && !fullDuplex) {
      throw new SpuriousException("trailers response in state " + s.state);
    }
    if (response.hasHeaderMutation()) {
      applyMutation(response.getHeaderMutation(), s.trailers);
    }
    s.finishCall();
    s.flushAndForwardTrailers();
    s.fdsBodyDone = true;
    s.finished = true;
  }

  private void applyMutation(
      io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation mutation, MultiMap headers)
      throws HeaderMutations.MutationException {
    HeaderMutations.apply(
        mutation, headers, config.mutationRules(), config.maxHeadersCount(), stats);
  }

  /**
   * Rule 21 (PS clearRouteCache): only on the request path, only with a header mutation in the same
   * CommonResponse; DEFAULT follows the flag, CLEAR always clears, RETAIN never does.
   */
  private void maybeClearRouteCache(DirectionState s, CommonResponse response) {
    RouteCacheAction action = config.routeCacheAction();
    boolean wanted =
        action == RouteCacheAction.CLEAR
            || (action == RouteCacheAction.DEFAULT && response.getClearRouteCache());
    if (action == RouteCacheAction.RETAIN) {
      if (response.getClearRouteCache()) {
        stats.inc(ExtProcStats.CLEAR_ROUTE_CACHE_DISABLED);
      }
      return;
    }
    if (!wanted) {
      return;
    }
    if (!s.decoding || !response.hasHeaderMutation()) {
      stats.inc(ExtProcStats.CLEAR_ROUTE_CACHE_IGNORED);
      return;
    }
    callbacks.clearRouteCache();
  }

  /** Rule 23: only top-level keys in receiving_namespaces.untyped are written. */
  private void setDynamicMetadata(ProcessingResponse response) {
    if (!response.hasDynamicMetadata()) {
      return;
    }
    response
        .getDynamicMetadata()
        .getFieldsMap()
        .forEach(
            (ns, value) -> {
              if (config.receivingNamespaces().contains(ns) && value.hasStructValue()) {
                dynamicMetadata.put(ns, value.getStructValue());
              }
            });
  }

  // ---------------------------------------------------------------------------------------------
  // Timers and failures

  /** Rule 13 (CC onNewTimeout, PS restartMessageTimer). */
  private void onNewTimeout(Duration requested) {
    long ms = requested.toMillis();
    if (!config.overridesEnabled()
        || ms < 1
        || requested.compareTo(config.maxMessageTimeout()) > 0) {
      stats.inc(ExtProcStats.OVERRIDE_MESSAGE_TIMEOUT_IGNORED);
      return;
    }
    boolean restarted = decoding.acceptOverride(requested) || encoding.acceptOverride(requested);
    stats.inc(
        restarted
            ? ExtProcStats.OVERRIDE_MESSAGE_TIMEOUT_RECEIVED
            : ExtProcStats.OVERRIDE_MESSAGE_TIMEOUT_IGNORED);
  }

  /** Rule 12 (CC onMessageTimeout). */
  private void onMessageTimeout() {
    stats.inc(ExtProcStats.MESSAGE_TIMEOUTS);
    processingComplete = true;
    closeStream();
    if (config.failureModeAllow()) {
      stats.inc(ExtProcStats.FAILURE_MODE_ALLOWED);
      clearAsyncState();
    } else {
      decoding.stopTimer();
      encoding.stopTimer();
      callbacks.sendLocalReply(504, "", h -> {}, DETAILS_MESSAGE_TIMEOUT);
    }
  }

  /** Rule 4, with the fail-closed guard {@code ext_proc_fail_close_spurious_resp} on. */
  private void onSpurious() {
    stats.inc(ExtProcStats.SPURIOUS_MSGS_RECEIVED);
    processingComplete = true;
    closeStream();
    if (config.failureModeAllow()) {
      clearAsyncState();
    } else {
      decoding.stopTimer();
      encoding.stopTimer();
      callbacks.sendLocalReply(config.statusOnError(), "", h -> {}, DETAILS_SPURIOUS);
    }
  }

  /** Rule 5: the server closed with OK; carry on without ext_proc. */
  private void onGrpcClose() {
    if (processingComplete) {
      return;
    }
    processingComplete = true;
    closeStream();
    clearAsyncState();
  }

  /** Rule 5: the stream failed. */
  private void onGrpcError(Status status) {
    stats.inc(ExtProcStats.STREAMS_FAILED);
    if (processingComplete) {
      return;
    }
    if (config.failureModeAllow()) {
      stats.inc(ExtProcStats.FAILURE_MODE_ALLOWED);
      onGrpcClose();
      return;
    }
    processingComplete = true;
    decoding.stopTimer();
    encoding.stopTimer();
    closeStream();
    String message = status.getDescription() == null ? "" : status.getDescription();
    String details = "ext_proc_error_gRPC_error_" + status.getCode().value() + "{" + message + "}";
    callbacks.sendLocalReply(config.statusOnError(), "", h -> {}, replaceSpaces(details));
  }

  /** CC clearAsyncState: let everything held continue unprocessed. */
  private void clearAsyncState() {
    decoding.clearAsyncState();
    encoding.clearAsyncState();
  }

  /** Rule 17 (CC sendImmediateResponse). */
  private void sendImmediateResponse(ImmediateResponse response) {
    int code = response.hasStatus() ? response.getStatus().getCodeValue() : 200;
    if (code < 200) {
      code = 200;
    }
    String body = response.getBody().toString(StandardCharsets.UTF_8);
    callbacks.sendLocalReply(
        code,
        body,
        headers -> {
          if (response.hasHeaders()) {
            try {
              HeaderMutations.apply(
                  response.getHeaders(),
                  headers,
                  HeaderMutations.IMMEDIATE_RESPONSE_RULES,
                  config.maxHeadersCount(),
                  stats);
            } catch (HeaderMutations.MutationException e) {
              // Envoy logs and sends the reply without the failed mutation.
            }
          }
        },
        replaceSpaces(response.getDetails()));
  }

  static String replaceSpaces(String details) {
    return details.replaceAll("\\s", "_");
  }

  static HeaderMap toHeaderMap(MultiMap headers) {
    HeaderMap.Builder map = HeaderMap.newBuilder();
    // Rule 2: lowercase keys, values in raw_value, pseudo-headers included.
    for (Map.Entry<String, String> e : headers) {
      map.addHeaders(
          HeaderValue.newBuilder()
              .setKey(e.getKey().toLowerCase(java.util.Locale.ROOT))
              .setRawValue(ByteString.copyFromUtf8(e.getValue())));
    }
    return map.build();
  }

  // ---------------------------------------------------------------------------------------------

  /** One direction's processing state (PS {@code ProcessorState}: decoding or encoding). */
  private final class DirectionState {
    final boolean decoding;
    final FilterCallbacks.Sink sink;
    HeaderSendMode headerMode;
    BodySendMode bodyMode;
    HeaderSendMode trailerMode;

    CallbackState state = CallbackState.IDLE;
    MultiMap headers;
    boolean headersEndStream;
    boolean headersContinued;
    Buffer held = Buffer.buffer();
    final Deque<Chunk> chunks = new ArrayDeque<>();
    boolean completeBodyAvailable;
    boolean bodyEndSent;
    boolean bodyEndForwarded;
    boolean bodyReplaced;
    boolean partialBodyProcessed;
    int partialSentBytes;
    boolean fdsBodyDone;
    boolean fdsTrailersSent;
    MultiMap trailers;
    boolean trailersPending;
    boolean trailersForwarded;
    boolean sentAttributes;
    boolean finished;

    long timerId = -1;
    boolean overrideAccepted;

    DirectionState(boolean decoding, FilterCallbacks.Sink sink) {
      this.decoding = decoding;
      this.sink = sink;
    }

    void setMode(ProcessingMode mode) {
      if (decoding) {
        headerMode = mode.getRequestHeaderMode();
        bodyMode = mode.getRequestBodyMode();
        trailerMode = mode.getRequestTrailerMode();
      } else {
        headerMode = mode.getResponseHeaderMode();
        bodyMode = mode.getResponseBodyMode();
        trailerMode = mode.getResponseTrailerMode();
      }
    }

    boolean headersContinuedOrHeld() {
      return headers != null;
    }

    /** PS onStartProcessorCall: arm message_timeout (rule 12), except in FDS (1.36). */
    void startCall(CallbackState next) {
      state = next;
      overrideAccepted = false;
      if (bodyMode != BodySendMode.FULL_DUPLEX_STREAMED) {
        restartTimer(config.messageTimeout());
      }
    }

    /** PS onFinishProcessorCall. */
    void finishCall() {
      stopTimer();
      state = CallbackState.IDLE;
      overrideAccepted = false;
    }

    void restartTimer(Duration timeout) {
      stopTimer();
      timerId = callbacks.setTimer(Math.max(1, timeout.toMillis()), this::onTimer);
    }

    void stopTimer() {
      if (timerId >= 0) {
        callbacks.cancelTimer(timerId);
        timerId = -1;
      }
    }

    private void onTimer() {
      timerId = -1;
      onMessageTimeout();
    }

    /** Rule 13: at most once per processing state, only while a timer runs. */
    boolean acceptOverride(Duration timeout) {
      if (timerId < 0 || overrideAccepted) {
        return false;
      }
      overrideAccepted = true;
      restartTimer(timeout);
      return true;
    }

    void continueHeaders() {
      if (headersContinued || headers == null) {
        return;
      }
      headersContinued = true;
      if (!processingComplete
          && (bodyMode == BodySendMode.STREAMED
              || bodyMode == BodySendMode.BUFFERED_PARTIAL
              || bodyMode == BodySendMode.FULL_DUPLEX_STREAMED)) {
        // PM: body mutation may change the length, so Envoy removes content-length (rule 9).
        headers.remove("content-length");
      }
      sink.headers(headers, headersEndStream);
    }

    void flushHeld(boolean endStream) {
      if (held.length() > 0 || (endStream && !bodyEndForwarded)) {
        Buffer data = held;
        held = Buffer.buffer();
        sink.data(data, endStream);
        bodyEndForwarded |= endStream;
      }
    }

    void passThrough(Buffer data, boolean endStream) {
      if (!headersContinued) {
        held.appendBuffer(data);
        return;
      }
      flushHeld(false);
      sink.data(data, endStream);
      bodyEndForwarded |= endStream;
      if (endStream) {
        finished = true;
        maybeCloseStream();
      }
    }

    void flushAndForwardTrailers() {
      continueHeaders();
      flushHeld(false);
      if (!trailersForwarded && trailers != null) {
        trailersForwarded = true;
        sink.trailers(trailers);
      }
    }

    /** Everything held continues unprocessed (CC clearAsyncState). */
    void clearAsyncState() {
      stopTimer();
      state = CallbackState.IDLE;
      if (headers == null || bodyReplaced) {
        return;
      }
      continueHeaders();
      if (headersEndStream) {
        return;
      }
      // Chunks sent to the server but not answered, then data not yet sent: the original bytes, in
      // order.
      Buffer pending = Buffer.buffer();
      for (Chunk c : chunks) {
        pending.appendBuffer(c.data());
      }
      chunks.clear();
      pending.appendBuffer(held);
      held = pending;
      if (partialSentBytes > 0 && !partialBodyProcessed) {
        partialBodyProcessed = true;
      }
      if (trailers != null) {
        flushAndForwardTrailers();
      } else {
        flushHeld(completeBodyAvailable);
      }
      sink.resumeSource();
    }

    /**
     * Whether this direction can send no further message (for rule 6's close on the last response).
     */
    boolean noMoreMessages() {
      if (state != CallbackState.IDLE || !chunks.isEmpty()) {
        return false;
      }
      if (finished) {
        return true;
      }
      if (headers == null) {
        return !ExtProcFilterConfig.sendsHeaders(headerMode)
            && bodyMode == BodySendMode.NONE
            && !ExtProcFilterConfig.sendsTrailers(trailerMode);
      }
      if (!headersContinued && ExtProcFilterConfig.sendsHeaders(headerMode)) {
        return false;
      }
      boolean bodyLeft =
          switch (bodyMode) {
            case NONE -> false;
            case BUFFERED_PARTIAL -> !partialBodyProcessed;
            case FULL_DUPLEX_STREAMED -> !fdsBodyDone;
            default -> !bodyEndSent && !(completeBodyAvailable && trailers != null && bodyEndSent);
          };
      boolean trailersLeft =
          ExtProcFilterConfig.sendsTrailers(trailerMode)
              && !trailersForwarded
              && !(completeBodyAvailable && trailers == null);
      return !bodyLeft && !trailersLeft;
    }
  }
}
