package dev.inferencebudget.extproc.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.inferencebudget.extproc.openai.AdmissionError;
import dev.inferencebudget.extproc.openai.OpenAiJson;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.TrailersResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;

/**
 * Builds the ProcessingResponses this server sends. Header values go in {@code raw_value} only
 * (spec rule 18: {@code value} alone becomes an empty header, both set is an error), and {@code
 * append} stays unset so a value overwrites.
 */
public final class EnvoyResponses {
  private EnvoyResponses() {}

  static final ProcessingResponse CONTINUE_REQUEST_HEADERS =
      ProcessingResponse.newBuilder()
          .setRequestHeaders(HeadersResponse.getDefaultInstance())
          .build();
  static final ProcessingResponse CONTINUE_RESPONSE_HEADERS =
      ProcessingResponse.newBuilder()
          .setResponseHeaders(HeadersResponse.getDefaultInstance())
          .build();
  static final ProcessingResponse CONTINUE_REQUEST_BODY =
      ProcessingResponse.newBuilder().setRequestBody(BodyResponse.getDefaultInstance()).build();
  static final ProcessingResponse CONTINUE_RESPONSE_BODY =
      ProcessingResponse.newBuilder().setResponseBody(BodyResponse.getDefaultInstance()).build();
  static final ProcessingResponse CONTINUE_REQUEST_TRAILERS =
      ProcessingResponse.newBuilder()
          .setRequestTrailers(TrailersResponse.getDefaultInstance())
          .build();
  static final ProcessingResponse CONTINUE_RESPONSE_TRAILERS =
      ProcessingResponse.newBuilder()
          .setResponseTrailers(TrailersResponse.getDefaultInstance())
          .build();

  /** The one mapping of an admission error to Envoy's local reply with an OpenAI error body. */
  public static ProcessingResponse immediate(AdmissionError error) {
    HeaderMutation.Builder headers =
        HeaderMutation.newBuilder().addSetHeaders(header("content-type", "application/json"));
    error
        .retryAfter()
        .ifPresent(
            d -> headers.addSetHeaders(header("retry-after", Long.toString(wholeSeconds(d)))));
    error.headers().forEach((name, value) -> headers.addSetHeaders(header(name, value)));
    return ProcessingResponse.newBuilder()
        .setImmediateResponse(
            ImmediateResponse.newBuilder()
                .setStatus(HttpStatus.newBuilder().setCodeValue(error.status()))
                .setHeaders(headers)
                .setBody(ByteString.copyFrom(OpenAiJson.errorBody(error)))
                // Envoy turns spaces into underscores; the code has none.
                .setDetails("ibc_" + error.code()))
        .build();
  }

  /** A 200 with a JSON body (the {@code /v1/models} list). */
  static ProcessingResponse immediateJson(byte[] body) {
    return ProcessingResponse.newBuilder()
        .setImmediateResponse(
            ImmediateResponse.newBuilder()
                .setStatus(HttpStatus.newBuilder().setCodeValue(200))
                .setHeaders(
                    HeaderMutation.newBuilder()
                        .addSetHeaders(header("content-type", "application/json")))
                .setBody(ByteString.copyFrom(body))
                .setDetails("ibc_models"))
        .build();
  }

  /** Request headers: continue, removing the client's copies of our internal headers. */
  static ProcessingResponse requestHeaders(Collection<String> remove) {
    if (remove.isEmpty()) {
      return CONTINUE_REQUEST_HEADERS;
    }
    return ProcessingResponse.newBuilder()
        .setRequestHeaders(
            HeadersResponse.newBuilder()
                .setResponse(
                    CommonResponse.newBuilder()
                        .setHeaderMutation(
                            HeaderMutation.newBuilder().addAllRemoveHeaders(remove))))
        .build();
  }

  /**
   * The request body's answer when admitted: the routing headers in a mutation with {@code
   * clear_route_cache} (spec rules 21-22: the route is recomputed from the new header), the body if
   * it was rewritten, and dynamic metadata when given.
   */
  static ProcessingResponse route(
      Map<String, String> setHeaders, byte[] newBody, Struct dynamicMetadata) {
    HeaderMutation.Builder mutation = HeaderMutation.newBuilder();
    setHeaders.forEach((name, value) -> mutation.addSetHeaders(header(name, value)));
    CommonResponse.Builder common =
        CommonResponse.newBuilder().setHeaderMutation(mutation).setClearRouteCache(true);
    if (newBody != null) {
      common.setBodyMutation(
          io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation.newBuilder()
              .setBody(ByteString.copyFrom(newBody)));
    }
    ProcessingResponse.Builder response =
        ProcessingResponse.newBuilder()
            .setRequestBody(BodyResponse.newBuilder().setResponse(common));
    if (dynamicMetadata != null) {
      response.setDynamicMetadata(dynamicMetadata);
    }
    return response.build();
  }

  /**
   * FULL_DUPLEX_STREAMED: the request headers' answer, sent once the body is complete (spec rule
   * 11: routing by body delays it), with the routing headers and {@code clear_route_cache}, and the
   * client's internal headers removed.
   */
  static ProcessingResponse routeHeaders(
      Map<String, String> setHeaders, Collection<String> remove, Struct dynamicMetadata) {
    HeaderMutation.Builder mutation = HeaderMutation.newBuilder().addAllRemoveHeaders(remove);
    setHeaders.forEach((name, value) -> mutation.addSetHeaders(header(name, value)));
    ProcessingResponse.Builder response =
        ProcessingResponse.newBuilder()
            .setRequestHeaders(
                HeadersResponse.newBuilder()
                    .setResponse(
                        CommonResponse.newBuilder()
                            .setHeaderMutation(mutation)
                            .setClearRouteCache(true)));
    if (dynamicMetadata != null) {
      response.setDynamicMetadata(dynamicMetadata);
    }
    return response.build();
  }

  /**
   * FULL_DUPLEX_STREAMED: bytes sent back to Envoy, which forwards only what it gets back (spec
   * rule 11).
   */
  static ProcessingResponse streamedBody(boolean request, ByteString body, boolean endOfStream) {
    BodyResponse answer =
        BodyResponse.newBuilder()
            .setResponse(
                CommonResponse.newBuilder()
                    .setBodyMutation(
                        io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation.newBuilder()
                            .setStreamedResponse(
                                io.envoyproxy.envoy.service.ext_proc.v3.StreamedBodyResponse
                                    .newBuilder()
                                    .setBody(body)
                                    .setEndOfStream(endOfStream))))
            .build();
    ProcessingResponse.Builder response = ProcessingResponse.newBuilder();
    return (request ? response.setRequestBody(answer) : response.setResponseBody(answer)).build();
  }

  /** Response headers: continue, adding headers (the tenant's rate limits). */
  static ProcessingResponse responseHeaders(Map<String, String> add) {
    if (add.isEmpty()) {
      return CONTINUE_RESPONSE_HEADERS;
    }
    HeaderMutation.Builder mutation = HeaderMutation.newBuilder();
    add.forEach((name, value) -> mutation.addSetHeaders(header(name, value)));
    return ProcessingResponse.newBuilder()
        .setResponseHeaders(
            HeadersResponse.newBuilder()
                .setResponse(CommonResponse.newBuilder().setHeaderMutation(mutation)))
        .build();
  }

  /**
   * Extends the deadline of the message being held (spec rules 13-14). Carries nothing else: a
   * response with an override only restarts Envoy's timer and is not the answer.
   */
  static ProcessingResponse overrideTimeout(Duration timeout) {
    return ProcessingResponse.newBuilder()
        .setOverrideMessageTimeout(
            com.google.protobuf.Duration.newBuilder()
                .setSeconds(timeout.getSeconds())
                .setNanos(timeout.getNano()))
        .build();
  }

  /** {@code envoy.lb} metadata naming the destination, as the Inference Extension sets it. */
  static Struct endpointMetadata(String namespace, String header, String address) {
    return Struct.newBuilder()
        .putFields(
            namespace,
            Value.newBuilder()
                .setStructValue(
                    Struct.newBuilder()
                        .putFields(header, Value.newBuilder().setStringValue(address).build()))
                .build())
        .build();
  }

  static HeaderValueOption header(String name, String value) {
    return HeaderValueOption.newBuilder()
        .setHeader(
            HeaderValue.newBuilder()
                .setKey(name)
                .setRawValue(ByteString.copyFrom(value, StandardCharsets.UTF_8)))
        .build();
  }

  private static long wholeSeconds(Duration duration) {
    long seconds = duration.getSeconds() + (duration.getNano() > 0 ? 1 : 0);
    return Math.max(1, seconds);
  }
}
