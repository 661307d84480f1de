package dev.inferencebudget.harness.envoy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.HeaderSendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.TrailersResponse;
import io.grpc.Status;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/**
 * Rules 5, 9–11, 3 (mode override): streaming bodies, stream closes, FDS, limits (cases 9, 13, 14,
 * 18, 19).
 */
class ExtProcStreamingTest extends StandInTestSupport {

  static ExtProcFilterConfig.Builder config(BodySendMode request, BodySendMode response) {
    return ExtProcFilterConfig.builder()
        .bodyModes(request, response)
        .messageTimeout(Duration.ofSeconds(5));
  }

  /**
   * An upstream that streams {@code events} SSE events, one every 10 ms, then ends the chunked
   * body.
   */
  void sseUpstream(int events) {
    upstream.handler(
        (req, body) -> {
          var resp = req.response().setChunked(true).putHeader("content-type", "text/event-stream");
          resp.writeHead();
          AtomicInteger n = new AtomicInteger();
          vertx.setPeriodic(
              10,
              id -> {
                int i = n.getAndIncrement();
                if (i < events) {
                  resp.write("data: {\"i\":" + i + "}\n\n");
                } else {
                  vertx.cancelTimer(id);
                  resp.end();
                }
              });
        });
  }

  static ProcessingResponse replaceResponseBody(String body) {
    return Responses.responseBody(
        CommonResponse.newBuilder()
            .setBodyMutation(BodyMutation.newBuilder().setBody(ByteString.copyFromUtf8(body)))
            .build());
  }

  @Test
  void streamedResponseChunksAreAnsweredOneToOneInOrderEndingWithAnEmptyEndOfStreamChunk()
      throws Exception {
    AtomicInteger chunk = new AtomicInteger();
    start(
        (s, r) -> {
          if (r.hasResponseBody()) {
            // Tag each chunk with its sequence number, so the client's bytes show order and
            // one-to-one answers.
            s.send(
                replaceResponseBody(
                    "["
                        + chunk.getAndIncrement()
                        + "]"
                        + r.getResponseBody().getBody().toStringUtf8()));
          } else {
            s.send(Responses.continueFor(r));
          }
        },
        config(BodySendMode.NONE, BodySendMode.STREAMED).build());
    sseUpstream(5);

    var response = get("/v1/chat/completions");

    assertThat(response.statusCode()).isEqualTo(200);
    var stream = extProc.nextStream();
    List<ProcessingRequest> chunks =
        stream.all.stream().filter(ProcessingRequest::hasResponseBody).toList();
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < chunks.size(); i++) {
      expected
          .append("[")
          .append(i)
          .append("]")
          .append(chunks.get(i).getResponseBody().getBody().toStringUtf8());
    }
    assertThat(response.body()).isEqualTo(expected.toString());
    assertThat(response.body()).contains("{\"i\":0}").contains("{\"i\":4}");
    ProcessingRequest last = chunks.get(chunks.size() - 1);
    assertThat(last.getResponseBody().getEndOfStream()).isTrue();
    assertThat(last.getResponseBody().getBody().isEmpty()).isTrue();
    assertThat(chunks.subList(0, chunks.size() - 1))
        .noneMatch(c -> c.getResponseBody().getEndOfStream());
    // Rule 9: Envoy removes content-length, so the client gets a chunked response.
    assertThat(response.headers().firstValue("content-length")).isEmpty();
  }

  @Test
  void unansweredStreamedChunkTimesOutAndResetsTheStartedResponse() throws Exception {
    AtomicInteger answered = new AtomicInteger();
    start(
        (s, r) -> {
          if (!r.hasResponseBody() || answered.getAndIncrement() == 0) {
            s.send(Responses.continueFor(r));
          }
        },
        // Long enough that the answered messages never time out on a loaded CI machine.
        config(BodySendMode.NONE, BodySendMode.STREAMED)
            .messageTimeout(Duration.ofSeconds(1))
            .build());
    sseUpstream(5);

    assertThrows(IOException.class, () -> get("/v1/chat/completions"));

    AccessLogEntry log = lastLog();
    assertThat(log.responseCodeDetails()).isEqualTo(ExtProcFilter.DETAILS_MESSAGE_TIMEOUT);
    assertThat(log.downstreamReset()).isTrue();
    assertThat(envoy.stats().get(ExtProcStats.MESSAGE_TIMEOUTS)).isEqualTo(1);
  }

  @Test
  void serverClosingWithOkMidRequestLetsTheRequestPassThrough() throws Exception {
    start(
        (s, r) -> {
          if (r.hasRequestHeaders()) {
            s.send(Responses.continueFor(r));
          } else {
            s.complete();
          }
        },
        config(BodySendMode.BUFFERED, BodySendMode.STREAMED).build());

    var response = post("/v1/chat/completions", "{\"model\":\"m\"}");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(upstream.received().get(0).body().toString()).isEqualTo("{\"model\":\"m\"}");
  }

  @Test
  void serverClosingWithAnErrorIs500WithTheGrpcStatusInTheDetails() throws Exception {
    start(
        (s, r) -> s.fail(Status.INTERNAL.withDescription("boom now")),
        config(BodySendMode.BUFFERED, BodySendMode.NONE).build());

    assertThat(post("/v1/chat/completions", "{}").statusCode()).isEqualTo(500);
    assertThat(lastLog().responseCodeDetails()).isEqualTo("ext_proc_error_gRPC_error_13{boom_now}");
    assertThat(envoy.stats().get(ExtProcStats.STREAMS_FAILED)).isEqualTo(1);
  }

  @Test
  void serverErrorAfterResponseHeadersWereSentResetsTheStream() throws Exception {
    start(
        (s, r) -> {
          if (r.hasResponseBody()) {
            s.fail(Status.UNAVAILABLE);
          } else {
            s.send(Responses.continueFor(r));
          }
        },
        config(BodySendMode.NONE, BodySendMode.STREAMED).build());
    sseUpstream(3);

    assertThrows(IOException.class, () -> get("/v1/chat/completions"));
    assertThat(lastLog().downstreamReset()).isTrue();
    assertThat(lastLog().responseCodeDetails()).startsWith("ext_proc_error_gRPC_error_14");
  }

  @Test
  void serverErrorWithFailureModeAllowContinuesUnprocessed() throws Exception {
    start(
        (s, r) -> s.fail(Status.INTERNAL),
        config(BodySendMode.BUFFERED, BodySendMode.NONE).failureModeAllow(true).build());

    assertThat(post("/v1/chat/completions", "{}").statusCode()).isEqualTo(200);
    assertThat(envoy.stats().get(ExtProcStats.FAILURE_MODE_ALLOWED)).isEqualTo(1);
  }

  // --- FULL_DUPLEX_STREAMED (rule 11, case 14)

  static ProcessingMode fullDuplex(boolean request, boolean response) {
    ProcessingMode.Builder m = ExtProcFilterConfig.builder().build().processingMode().toBuilder();
    if (request) {
      m.setRequestBodyMode(BodySendMode.FULL_DUPLEX_STREAMED)
          .setRequestTrailerMode(HeaderSendMode.SEND);
    }
    if (response) {
      m.setResponseBodyMode(BodySendMode.FULL_DUPLEX_STREAMED)
          .setResponseTrailerMode(HeaderSendMode.SEND);
    }
    return m.build();
  }

  @Test
  void fullDuplexDefersTheHeadersResponseUntilTheBodyEndsAndStreamsTheBodyBack() throws Exception {
    StringBuilder received = new StringBuilder();
    start(
        (s, r) -> {
          if (r.hasRequestBody()) {
            received.append(r.getRequestBody().getBody().toStringUtf8());
            if (r.getRequestBody().getEndOfStream()) {
              // GIE's endpoint picker: route by body, then send every byte back in several pieces.
              s.send(Responses.requestHeaders(Responses.route(ROUTING_HEADER, "m1")));
              String all = received.toString();
              int half = all.length() / 2;
              s.send(Responses.streamed(true, all.substring(0, half), false));
              s.send(Responses.streamed(true, all.substring(half), true));
            }
          } else if (!r.hasRequestHeaders()) {
            s.send(Responses.continueFor(r));
          }
        },
        ExtProcFilterConfig.builder().processingMode(fullDuplex(true, false)).build());
    envoy.routes().update(List.of(Route.onHeader("m1", ROUTING_HEADER, "m1", "m1")));
    String body = "{\"model\":\"m1\",\"messages\":[" + "\"x\",".repeat(1000) + "\"y\"]}";

    var response = post("/v1/chat/completions", body);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(upstream.received().get(0).body().toString()).isEqualTo(body);
    assertThat(upstream.received().get(0).headers().get(ROUTING_HEADER)).isEqualTo("m1");
  }

  @Test
  void fullDuplexResponseWithTrailers() throws Exception {
    start(
        (s, r) -> {
          if (r.hasResponseBody()) {
            s.send(
                Responses.streamed(
                    false,
                    r.getResponseBody().getBody().toStringUtf8().toUpperCase(),
                    r.getResponseBody().getEndOfStream()));
          } else if (r.hasResponseTrailers()) {
            s.send(
                ProcessingResponse.newBuilder()
                    .setResponseTrailers(
                        TrailersResponse.newBuilder()
                            .setHeaderMutation(Responses.setHeaders(Map.of("x-usage", "42"))))
                    .build());
          } else {
            s.send(Responses.continueFor(r));
          }
        },
        ExtProcFilterConfig.builder().processingMode(fullDuplex(false, true)).build());
    upstream.handler(
        (req, body) -> {
          var resp = req.response().setChunked(true);
          resp.write("hello ");
          resp.trailers().add("grpc-status", "0");
          resp.end("world");
        });

    var client = vertx.createHttpClient(new HttpClientOptions());
    var responseRef =
        new java.util.concurrent.atomic.AtomicReference<io.vertx.core.http.HttpClientResponse>();
    Buffer body =
        client
            .request(
                new RequestOptions()
                    .setMethod(HttpMethod.GET)
                    .setPort(envoy.port())
                    .setHost("127.0.0.1")
                    .setURI("/x"))
            .compose(req -> req.send())
            .compose(
                resp -> {
                  responseRef.set(resp);
                  return resp.body();
                })
            .await(5, TimeUnit.SECONDS);
    var response = responseRef.get();

    assertThat(body.toString()).isEqualTo("HELLO WORLD");
    assertThat(response.trailers().get("grpc-status")).isEqualTo("0");
    assertThat(response.trailers().get("x-usage")).isEqualTo("42");
    client.close();
  }

  @Test
  void fullDuplexConfigIsRejectedUnlessTrailersAreSentAndFailureModeIsClosed() {
    var noTrailers =
        fullDuplex(true, false).toBuilder().setRequestTrailerMode(HeaderSendMode.SKIP).build();
    assertThrows(
        IllegalArgumentException.class,
        () -> ExtProcFilterConfig.builder().processingMode(noTrailers).build());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            ExtProcFilterConfig.builder()
                .processingMode(fullDuplex(false, true))
                .failureModeAllow(true)
                .build());
  }

  // --- Other body modes and the mode override (rules 3, 10)

  @Test
  void bufferedPartialSendsWhatFitsThenPassesTheRestThrough() throws Exception {
    start(
        StandInTestSupport::continueAll,
        config(BodySendMode.BUFFERED_PARTIAL, BodySendMode.NONE).build(),
        b -> b.perConnectionBufferLimitBytes(1024));
    String body = repeat('p', 8 * 1024);

    assertThat(post("/v1/chat/completions", body).statusCode()).isEqualTo(200);

    var stream = extProc.nextStream();
    stream.next();
    var partial = stream.next().getRequestBody();
    assertThat(partial.getEndOfStream()).isFalse();
    assertThat(partial.getBody().size()).isGreaterThanOrEqualTo(1024).isLessThan(body.length());
    assertThat(upstream.received().get(0).body().toString()).isEqualTo(body);
  }

  @Test
  void modeOverrideInAHeadersResponseIsHonouredOnlyWhenAllowed() throws Exception {
    BiConsumer<ScriptedExtProcServer.ScriptedStream, ProcessingRequest> askForBody =
        (s, r) -> {
          ProcessingResponse answer = Responses.continueFor(r);
          if (r.hasRequestHeaders()) {
            answer =
                answer.toBuilder()
                    .setModeOverride(
                        ExtProcFilterConfig.builder().build().processingMode().toBuilder()
                            .setRequestBodyMode(BodySendMode.BUFFERED))
                    .build();
          }
          s.send(answer);
        };
    start(askForBody, config(BodySendMode.NONE, BodySendMode.NONE).allowModeOverride(true).build());
    assertThat(post("/v1/chat/completions", "{}").statusCode()).isEqualTo(200);
    assertThat(extProc.nextStream().all).anyMatch(ProcessingRequest::hasRequestBody);
    closeAll();

    start(askForBody, config(BodySendMode.NONE, BodySendMode.NONE).build());
    assertThat(post("/v1/chat/completions", "{}").statusCode()).isEqualTo(200);
    assertThat(extProc.nextStream().all).noneMatch(ProcessingRequest::hasRequestBody);
  }

  // --- Limits (cases 18, 19)

  @Test
  void bufferedBodyOverGrpcJavasDefaultInboundLimitFailsUnlessTheServerRaisesIt() throws Exception {
    String body = repeat('z', 5 * 1024 * 1024);
    startServer(StandInTestSupport::continueAll, 4 * 1024 * 1024); // grpc-java's default
    startStandIn(
        config(BodySendMode.BUFFERED, BodySendMode.NONE).build(),
        b -> b.perConnectionBufferLimitBytes(16 * 1024 * 1024));

    assertThat(post("/v1/chat/completions", body).statusCode()).isEqualTo(500);
    // grpc-java's server rejects the message with RESOURCE_EXHAUSTED by resetting the stream
    // (RST_STREAM CANCEL),
    // which its client reports as CANCELLED: the code in the details is 1, not 8.
    assertThat(lastLog().responseCodeDetails()).startsWith("ext_proc_error_gRPC_error_");
    closeAll();

    startServer(StandInTestSupport::continueAll, 16 * 1024 * 1024);
    startStandIn(
        config(BodySendMode.BUFFERED, BodySendMode.NONE).build(),
        b -> b.perConnectionBufferLimitBytes(16 * 1024 * 1024));
    assertThat(post("/v1/chat/completions", body).statusCode()).isEqualTo(200);
  }

  @Test
  void heldRequestsBeyondTheExtProcCircuitBreakerFail() throws Exception {
    List<ScriptedExtProcServer.ScriptedStream> held = new CopyOnWriteArrayList<>();
    start(
        (s, r) -> {
          if (r.hasRequestHeaders()) {
            held.add(s); // hold every request until released
          } else {
            s.send(Responses.continueFor(r));
          }
        },
        config(BodySendMode.NONE, BodySendMode.NONE).extProcMaxRequests(3).build());

    List<java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<String>>> responses =
        new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      responses.add(
          http.sendAsync(
              java.net.http.HttpRequest.newBuilder(uri("/v1/models")).GET().build(),
              java.net.http.HttpResponse.BodyHandlers.ofString()));
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> held.size() == 3);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> envoy.stats().get(ExtProcStats.EXT_PROC_RQ_OVERFLOW) == 2);
    for (var s : held) {
      s.send(Responses.requestHeaders(Responses.common()));
    }

    List<Integer> codes = new ArrayList<>();
    for (var f : responses) {
      codes.add(f.get(5, TimeUnit.SECONDS).statusCode());
    }
    assertThat(codes).containsExactlyInAnyOrder(200, 200, 200, 500, 500);
  }
}
