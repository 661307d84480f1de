package dev.inferencebudget.harness.envoy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.HeaderSendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest.RequestCase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Rules 1–4, 8, 16, 20: message order, body modes, spurious responses (conformance cases 1–4, 16).
 */
class ExtProcMessageOrderTest extends StandInTestSupport {

  static ExtProcFilterConfig modes(BodySendMode request, BodySendMode response) {
    ProcessingMode.Builder m =
        ProcessingMode.newBuilder()
            .setRequestHeaderMode(HeaderSendMode.SEND)
            .setResponseHeaderMode(HeaderSendMode.SEND)
            .setRequestBodyMode(request)
            .setResponseBodyMode(response);
    // Rule 11: FDS requires trailer mode SEND.
    if (request == BodySendMode.FULL_DUPLEX_STREAMED) {
      m.setRequestTrailerMode(HeaderSendMode.SEND);
    }
    // A generous message timeout: a cold JVM can take longer than Envoy's 200 ms default on the
    // first stream.
    return ExtProcFilterConfig.builder()
        .processingMode(m.build())
        .messageTimeout(Duration.ofSeconds(5))
        .build();
  }

  @ParameterizedTest(name = "request body mode {0}")
  @EnumSource(
      value = BodySendMode.class,
      names = {"NONE", "STREAMED", "BUFFERED", "BUFFERED_PARTIAL", "FULL_DUPLEX_STREAMED"})
  void headersWithEndOfStreamAreFollowedByNoBodyMessageInAnyMode(BodySendMode mode)
      throws Exception {
    start(StandInTestSupport::continueAll, modes(mode, BodySendMode.NONE));

    var response = get("/v1/models");

    assertThat(response.statusCode()).isEqualTo(200);
    var stream = extProc.nextStream();
    assertThat(stream.next().getRequestHeaders().getEndOfStream()).isTrue();
    assertThat(stream.next().getRequestCase()).isEqualTo(RequestCase.RESPONSE_HEADERS);
    assertThat(stream.all)
        .extracting(ProcessingRequest::getRequestCase)
        .doesNotContain(RequestCase.REQUEST_BODY, RequestCase.REQUEST_TRAILERS);
  }

  @Test
  void bufferedBodyOverTheBufferLimitGets413AndTheServerNeverSeesTheBody() throws Exception {
    start(
        StandInTestSupport::continueAll,
        modes(BodySendMode.BUFFERED, BodySendMode.NONE),
        b -> b.perConnectionBufferLimitBytes(1024));

    var response = post("/v1/chat/completions", repeat('a', 64 * 1024));

    assertThat(response.statusCode()).isEqualTo(413);
    assertThat(lastLog().responseCodeDetails()).isEqualTo("request_payload_too_large");
    assertThat(extProc.nextStream().all)
        .extracting(ProcessingRequest::getRequestCase)
        .containsExactly(RequestCase.REQUEST_HEADERS);
    assertThat(upstream.received()).isEmpty();
  }

  @Test
  void bufferedBodyIsSentWholeAfterTheHeadersResponse() throws Exception {
    start(StandInTestSupport::continueAll, modes(BodySendMode.BUFFERED, BodySendMode.NONE));

    var response = post("/v1/chat/completions", repeat('b', 100_000));

    assertThat(response.statusCode()).isEqualTo(200);
    var stream = extProc.nextStream();
    stream.next();
    ProcessingRequest body = stream.next();
    assertThat(body.getRequestBody().getBody().size()).isEqualTo(100_000);
    assertThat(body.getRequestBody().getEndOfStream()).isTrue();
    assertThat(upstream.received().get(0).body().length()).isEqualTo(100_000);
  }

  @Test
  void bodyResponseWhileHeadersArePendingIsSpuriousAnd500() throws Exception {
    start(
        (s, r) -> {
          if (r.hasRequestHeaders()) {
            s.send(Responses.requestBody(Responses.common()));
          }
        },
        modes(BodySendMode.BUFFERED, BodySendMode.NONE));

    var response = post("/v1/chat/completions", "{}");

    assertThat(response.statusCode()).isEqualTo(500);
    assertThat(lastLog().responseCodeDetails()).isEqualTo(ExtProcFilter.DETAILS_SPURIOUS);
    assertThat(envoy.stats().get(ExtProcStats.SPURIOUS_MSGS_RECEIVED)).isEqualTo(1);
    assertThat(upstream.received()).isEmpty();
  }

  @Test
  void secondResponseToTheSameMessageIsSpuriousAnd500() throws Exception {
    start(
        (s, r) -> {
          if (r.hasRequestHeaders()) {
            s.send(Responses.continueFor(r));
            s.send(Responses.continueFor(r));
          } else {
            s.send(Responses.continueFor(r));
          }
        },
        modes(BodySendMode.BUFFERED, BodySendMode.NONE));

    var response = post("/v1/chat/completions", "{}");

    assertThat(response.statusCode()).isEqualTo(500);
    assertThat(envoy.stats().get(ExtProcStats.SPURIOUS_MSGS_RECEIVED)).isEqualTo(1);
  }

  @Test
  void wrongDirectionResponseIsSpuriousAnd500() throws Exception {
    start(
        (s, r) -> s.send(Responses.responseHeaders(Responses.common())),
        modes(BodySendMode.NONE, BodySendMode.NONE));

    assertThat(get("/v1/models").statusCode()).isEqualTo(500);
    assertThat(envoy.stats().get(ExtProcStats.SPURIOUS_MSGS_RECEIVED)).isEqualTo(1);
  }

  @Test
  void streamedResponseOutsideFullDuplexIsSpuriousAnd500() throws Exception {
    start(
        (s, r) -> {
          if (r.hasRequestBody()) {
            s.send(Responses.streamed(true, "x", true));
          } else {
            s.send(Responses.continueFor(r));
          }
        },
        modes(BodySendMode.BUFFERED, BodySendMode.NONE));

    assertThat(post("/v1/chat/completions", "{}").statusCode()).isEqualTo(500);
    assertThat(envoy.stats().get(ExtProcStats.SPURIOUS_MSGS_RECEIVED)).isEqualTo(1);
  }

  @Test
  void spuriousResponseUsesStatusOnError() throws Exception {
    start(
        (s, r) -> s.send(Responses.responseHeaders(Responses.common())),
        modes(BodySendMode.NONE, BodySendMode.NONE).toBuilder().statusOnError(503).build());

    var response = get("/v1/models");

    assertThat(response.statusCode()).as("%s", envoy.accessLog()).isEqualTo(503);
  }

  @Test
  void withFailureModeAllowASpuriousResponseLetsTheRequestContinueUnprocessed() throws Exception {
    start(
        (s, r) -> {
          if (r.hasRequestHeaders()) {
            s.send(Responses.responseHeaders(Responses.route(ROUTING_HEADER, "m1")));
          }
        },
        modes(BodySendMode.BUFFERED, BodySendMode.NONE).toBuilder().failureModeAllow(true).build());

    var response = post("/v1/chat/completions", "{\"model\":\"m\"}");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(upstream.received()).hasSize(1);
    assertThat(upstream.received().get(0).body().toString()).isEqualTo("{\"model\":\"m\"}");
    assertThat(upstream.received().get(0).headers().contains(ROUTING_HEADER)).isFalse();
    assertThat(envoy.stats().get(ExtProcStats.SPURIOUS_MSGS_RECEIVED)).isEqualTo(1);
  }

  @Test
  void responsesAfterProcessingCompletedAreIgnored() throws Exception {
    start(
        (s, r) -> {
          s.send(Responses.continueFor(r));
          if (r.hasResponseHeaders()) {
            // The stream is closed after the last expected response (rule 6); this one is dropped.
            s.send(Responses.continueFor(r));
          }
        },
        modes(BodySendMode.NONE, BodySendMode.NONE));

    assertThat(get("/v1/models").statusCode()).isEqualTo(200);
    assertThat(envoy.stats().get(ExtProcStats.SPURIOUS_MSGS_RECEIVED)).isZero();
  }

  @Test
  void protocolConfigIsOnlyOnTheFirstMessageAndAttributesOncePerDirection() throws Exception {
    start(
        StandInTestSupport::continueAll,
        modes(BodySendMode.BUFFERED, BodySendMode.STREAMED).toBuilder()
            .requestAttributes(List.of("request.path", "request.method", "request.id"))
            .responseAttributes(List.of("response.code"))
            .build());

    assertThat(post("/v1/chat/completions", "{}").statusCode()).isEqualTo(200);

    var stream = extProc.nextStream();
    await().atMost(Duration.ofSeconds(5)).until(() -> stream.cancelled());
    List<ProcessingRequest> all = stream.all;
    assertThat(all.get(0).hasProtocolConfig()).isTrue();
    assertThat(all.get(0).getProtocolConfig().getRequestBodyMode())
        .isEqualTo(BodySendMode.BUFFERED);
    assertThat(all.get(0).getProtocolConfig().getResponseBodyMode())
        .isEqualTo(BodySendMode.STREAMED);
    assertThat(all.subList(1, all.size())).noneMatch(ProcessingRequest::hasProtocolConfig);

    var requestAttrs = all.get(0).getAttributesMap().get(ExtProcFilter.FILTER_NAME).getFieldsMap();
    assertThat(requestAttrs.get("request.path").getStringValue()).isEqualTo("/v1/chat/completions");
    assertThat(requestAttrs.get("request.method").getStringValue()).isEqualTo("POST");
    assertThat(requestAttrs.get("request.id").getStringValue()).isNotEmpty();
    assertThat(all.get(1).getRequestCase()).isEqualTo(RequestCase.REQUEST_BODY);
    assertThat(all.get(1).getAttributesMap()).isEmpty();
    assertThat(all.get(2).getRequestCase()).isEqualTo(RequestCase.RESPONSE_HEADERS);
    assertThat(all.get(2).getAttributesMap().get(ExtProcFilter.FILTER_NAME).getFieldsMap())
        .containsKey("response.code");
    assertThat(all.subList(3, all.size())).allMatch(r -> r.getAttributesMap().isEmpty());
  }

  @Test
  void headersAreLowercaseWithRawValuesAndPseudoHeaders() throws Exception {
    start(StandInTestSupport::continueAll, modes(BodySendMode.NONE, BodySendMode.NONE));

    post("/v1/chat/completions", "{}", Map.of("X-Tenant-Key", "Secret Value"));

    var headers = extProc.nextStream().next().getRequestHeaders().getHeaders().getHeadersList();
    assertThat(headers).allMatch(h -> h.getKey().equals(h.getKey().toLowerCase()));
    assertThat(headers).allMatch(h -> h.getValue().isEmpty());
    assertThat(headers)
        .anyMatch(h -> h.getKey().equals(":path"))
        .anyMatch(h -> h.getKey().equals(":method"))
        .anyMatch(h -> h.getKey().equals(":authority"))
        .anyMatch(
            h ->
                h.getKey().equals("x-tenant-key")
                    && h.getRawValue().toStringUtf8().equals("Secret Value"));
  }

  @Test
  void continueAndReplaceReplacesTheBodyAndStopsFurtherBodyMessages() throws Exception {
    start(
        (s, r) -> {
          if (r.hasRequestHeaders()) {
            s.send(
                Responses.requestHeaders(
                    io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse.newBuilder()
                        .setStatus(
                            io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse.ResponseStatus
                                .CONTINUE_AND_REPLACE)
                        .setHeaderMutation(Responses.setHeaders(Map.of("x-replaced", "yes")))
                        .setBodyMutation(
                            io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation.newBuilder()
                                .setBody(com.google.protobuf.ByteString.copyFromUtf8("replaced")))
                        .build()));
          } else {
            s.send(Responses.continueFor(r));
          }
        },
        modes(BodySendMode.BUFFERED, BodySendMode.NONE));

    assertThat(post("/v1/chat/completions", "original body").statusCode()).isEqualTo(200);

    assertThat(upstream.received().get(0).body().toString()).isEqualTo("replaced");
    assertThat(upstream.received().get(0).headers().get("x-replaced")).isEqualTo("yes");
    assertThat(extProc.nextStream().all)
        .extracting(ProcessingRequest::getRequestCase)
        .doesNotContain(RequestCase.REQUEST_BODY);
  }

  @Test
  void streamIsClosedWithHalfCloseThenCancelAfterTheLastResponse() throws Exception {
    start(StandInTestSupport::continueAll, modes(BodySendMode.BUFFERED, BodySendMode.NONE));

    assertThat(post("/v1/chat/completions", "{}").statusCode()).isEqualTo(200);

    var stream = extProc.nextStream();
    // On the wire: END_STREAM then RST_STREAM (rule 6). grpc-java delivers the half-close only if
    // it wins the race
    // with the cancellation, so a server must detect the close through cancellation, not
    // onCompleted().
    await().atMost(Duration.ofSeconds(5)).until(stream::cancelled);
    if (stream.halfClosed()) {
      assertThat(stream.events.indexOf("half-close")).isLessThan(stream.events.indexOf("cancel"));
    }
    assertThat(stream.all)
        .extracting(ProcessingRequest::getRequestCase)
        .containsExactly(
            RequestCase.REQUEST_HEADERS, RequestCase.REQUEST_BODY, RequestCase.RESPONSE_HEADERS);
  }
}
