package dev.inferencebudget.extproc.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpTrailers;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Sends ProcessingRequests the way Envoy does for one HTTP request (BUFFERED request body, STREAMED
 * response body) and collects the answers. Not the Envoy stand-in: no timers, no rules, just the
 * wire.
 */
public final class EnvoyDriver {
  private final ExternalProcessorGrpc.ExternalProcessorStub stub;

  public EnvoyDriver(Channel channel) {
    this.stub = ExternalProcessorGrpc.newStub(channel);
  }

  public Exchange open() {
    return new Exchange();
  }

  /** One stream. */
  public final class Exchange {
    private final BlockingQueue<ProcessingResponse> answers = new LinkedBlockingQueue<>();
    private volatile Throwable error;
    private volatile boolean completed;
    private final ClientCallStreamObserver<ProcessingRequest> requests;

    Exchange() {
      requests =
          (ClientCallStreamObserver<ProcessingRequest>)
              stub.process(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(ProcessingResponse value) {
                      answers.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                      error = t;
                    }

                    @Override
                    public void onCompleted() {
                      completed = true;
                    }
                  });
    }

    public Exchange requestHeaders(
        String method, String path, Map<String, String> headers, boolean endOfStream) {
      Map<String, String> all = new LinkedHashMap<>();
      all.put(":method", method);
      all.put(":path", path);
      all.put(":authority", "gateway");
      all.put(":scheme", "http");
      all.putAll(headers);
      requests.onNext(
          ProcessingRequest.newBuilder()
              .setRequestHeaders(
                  HttpHeaders.newBuilder().setHeaders(map(all)).setEndOfStream(endOfStream))
              .build());
      return this;
    }

    public Exchange post(String path, Map<String, String> headers) {
      Map<String, String> all = new LinkedHashMap<>(headers);
      all.putIfAbsent("content-type", "application/json");
      return requestHeaders("POST", path, all, false);
    }

    /**
     * A POST whose first message announces FULL_DUPLEX_STREAMED request bodies in {@code
     * protocol_config}, as Envoy 1.34+ does (spec rule 2).
     */
    public Exchange postFullDuplex(String path, Map<String, String> headers) {
      Map<String, String> all = new LinkedHashMap<>();
      all.put(":method", "POST");
      all.put(":path", path);
      all.put(":authority", "gateway");
      all.put(":scheme", "http");
      all.put("content-type", "application/json");
      all.putAll(headers);
      requests.onNext(
          ProcessingRequest.newBuilder()
              .setProtocolConfig(
                  io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration.newBuilder()
                      .setRequestBodyMode(
                          io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode
                              .BodySendMode.FULL_DUPLEX_STREAMED)
                      .setResponseBodyMode(
                          io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode
                              .BodySendMode.STREAMED))
              .setRequestHeaders(HttpHeaders.newBuilder().setHeaders(map(all)))
              .build());
      return this;
    }

    /** One chunk of a streamed request body. */
    public Exchange requestBodyChunk(byte[] chunk, boolean endOfStream) {
      requests.onNext(
          ProcessingRequest.newBuilder()
              .setRequestBody(
                  HttpBody.newBuilder()
                      .setBody(ByteString.copyFrom(chunk))
                      .setEndOfStream(endOfStream))
              .build());
      return this;
    }

    public Exchange requestBody(byte[] body) {
      requests.onNext(
          ProcessingRequest.newBuilder()
              .setRequestBody(
                  HttpBody.newBuilder().setBody(ByteString.copyFrom(body)).setEndOfStream(true))
              .build());
      return this;
    }

    public Exchange requestBody(String body) {
      return requestBody(body.getBytes(StandardCharsets.UTF_8));
    }

    public Exchange requestTrailers() {
      requests.onNext(
          ProcessingRequest.newBuilder()
              .setRequestTrailers(HttpTrailers.getDefaultInstance())
              .build());
      return this;
    }

    public Exchange responseHeaders(int status, String contentType, boolean endOfStream) {
      Map<String, String> all = new LinkedHashMap<>();
      all.put(":status", Integer.toString(status));
      all.put("content-type", contentType);
      requests.onNext(
          ProcessingRequest.newBuilder()
              .setResponseHeaders(
                  HttpHeaders.newBuilder().setHeaders(map(all)).setEndOfStream(endOfStream))
              .build());
      return this;
    }

    public Exchange responseBody(String chunk, boolean endOfStream) {
      requests.onNext(
          ProcessingRequest.newBuilder()
              .setResponseBody(
                  HttpBody.newBuilder()
                      .setBody(ByteString.copyFromUtf8(chunk))
                      .setEndOfStream(endOfStream))
              .build());
      return this;
    }

    /** Envoy's close: a half-close, then (after the last answer) a reset. */
    public void halfCloseAndCancel() {
      requests.onCompleted();
      requests.cancel("envoy closed the stream", null);
    }

    public void halfClose() {
      requests.onCompleted();
    }

    public ProcessingResponse next() {
      try {
        ProcessingResponse r = answers.poll(5, TimeUnit.SECONDS);
        assertThat(r).as("an answer within 5s (error: %s)", error).isNotNull();
        return r;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }

    /** An answer if one arrives within {@code millis}, else null. */
    public ProcessingResponse poll(long millis) {
      try {
        return answers.poll(millis, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }

    public boolean completed() {
      return completed;
    }

    public Throwable error() {
      return error;
    }

    /**
     * The usual life of an admitted request: headers, body, then a JSON response with usage;
     * returns the answer to the request body.
     */
    public ProcessingResponse admit(String path, Map<String, String> headers, String body) {
      post(path, headers);
      next();
      requestBody(body);
      return next();
    }
  }

  public static HeaderMap map(Map<String, String> headers) {
    HeaderMap.Builder map = HeaderMap.newBuilder();
    headers.forEach(
        (k, v) ->
            map.addHeaders(
                HeaderValue.newBuilder().setKey(k).setRawValue(ByteString.copyFromUtf8(v))));
    return map.build();
  }

  /** The value a header mutation sets for {@code name}, or null. */
  public static String setHeader(
      io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation mutation, String name) {
    return mutation.getSetHeadersList().stream()
        .filter(h -> h.getHeader().getKey().equals(name))
        .map(h -> h.getHeader().getRawValue().toStringUtf8())
        .findFirst()
        .orElse(null);
  }
}
