package dev.inferencebudget.harness.envoy;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.StreamedBodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.TrailersResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import java.time.Duration;
import java.util.Map;

/** Builders for the ProcessingResponses that scripted servers send. */
final class Responses {
  private Responses() {}

  static HeaderValueOption set(String key, String rawValue) {
    return HeaderValueOption.newBuilder()
        .setHeader(
            HeaderValue.newBuilder().setKey(key).setRawValue(ByteString.copyFromUtf8(rawValue)))
        .build();
  }

  static HeaderMutation setHeaders(Map<String, String> headers) {
    HeaderMutation.Builder m = HeaderMutation.newBuilder();
    headers.forEach((k, v) -> m.addSetHeaders(set(k, v)));
    return m.build();
  }

  static CommonResponse common() {
    return CommonResponse.getDefaultInstance();
  }

  /** A CONTINUE answer to whatever {@code request} was, in the matching direction and type. */
  static ProcessingResponse continueFor(ProcessingRequest request) {
    return answer(request, common());
  }

  static ProcessingResponse answer(ProcessingRequest request, CommonResponse common) {
    ProcessingResponse.Builder r = ProcessingResponse.newBuilder();
    switch (request.getRequestCase()) {
      case REQUEST_HEADERS -> r.setRequestHeaders(HeadersResponse.newBuilder().setResponse(common));
      case RESPONSE_HEADERS ->
          r.setResponseHeaders(HeadersResponse.newBuilder().setResponse(common));
      case REQUEST_BODY -> r.setRequestBody(BodyResponse.newBuilder().setResponse(common));
      case RESPONSE_BODY -> r.setResponseBody(BodyResponse.newBuilder().setResponse(common));
      case REQUEST_TRAILERS -> r.setRequestTrailers(TrailersResponse.getDefaultInstance());
      case RESPONSE_TRAILERS -> r.setResponseTrailers(TrailersResponse.getDefaultInstance());
      default -> throw new IllegalArgumentException("unexpected " + request.getRequestCase());
    }
    return r.build();
  }

  static ProcessingResponse requestHeaders(CommonResponse common) {
    return ProcessingResponse.newBuilder()
        .setRequestHeaders(HeadersResponse.newBuilder().setResponse(common))
        .build();
  }

  static ProcessingResponse requestBody(CommonResponse common) {
    return ProcessingResponse.newBuilder()
        .setRequestBody(BodyResponse.newBuilder().setResponse(common))
        .build();
  }

  static ProcessingResponse responseHeaders(CommonResponse common) {
    return ProcessingResponse.newBuilder()
        .setResponseHeaders(HeadersResponse.newBuilder().setResponse(common))
        .build();
  }

  static ProcessingResponse responseBody(CommonResponse common) {
    return ProcessingResponse.newBuilder()
        .setResponseBody(BodyResponse.newBuilder().setResponse(common))
        .build();
  }

  /** Routing by header: the mutation plus clear_route_cache (rules 21, 22). */
  static CommonResponse route(String header, String value) {
    return CommonResponse.newBuilder()
        .setHeaderMutation(setHeaders(Map.of(header, value)))
        .setClearRouteCache(true)
        .build();
  }

  static ProcessingResponse streamed(boolean request, String body, boolean endOfStream) {
    CommonResponse c =
        CommonResponse.newBuilder()
            .setBodyMutation(
                BodyMutation.newBuilder()
                    .setStreamedResponse(
                        StreamedBodyResponse.newBuilder()
                            .setBody(ByteString.copyFromUtf8(body))
                            .setEndOfStream(endOfStream)))
            .build();
    return request ? requestBody(c) : responseBody(c);
  }

  static ProcessingResponse override(Duration timeout) {
    return ProcessingResponse.newBuilder()
        .setOverrideMessageTimeout(
            com.google.protobuf.Duration.newBuilder()
                .setSeconds(timeout.getSeconds())
                .setNanos(timeout.getNano()))
        .build();
  }

  static ProcessingResponse immediate(
      int code, String body, HeaderMutation headers, String details) {
    ImmediateResponse.Builder i =
        ImmediateResponse.newBuilder().setBody(ByteString.copyFromUtf8(body));
    if (code >= 0) {
      i.setStatus(HttpStatus.newBuilder().setCodeValue(code));
    }
    if (headers != null) {
      i.setHeaders(headers);
    }
    if (details != null) {
      i.setDetails(details);
    }
    return ProcessingResponse.newBuilder().setImmediateResponse(i).build();
  }
}
