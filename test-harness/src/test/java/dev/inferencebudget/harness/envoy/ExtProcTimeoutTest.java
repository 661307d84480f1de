package dev.inferencebudget.harness.envoy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Rules 12–15: message_timeout, override_message_timeout, stream idle timeout, disconnects (cases
 * 5–8).
 */
class ExtProcTimeoutTest extends StandInTestSupport {
  private final ScheduledExecutorService serverClock = Executors.newSingleThreadScheduledExecutor();

  @AfterEach
  void stopClock() {
    serverClock.shutdownNow();
  }

  static ExtProcFilterConfig.Builder buffered() {
    return ExtProcFilterConfig.builder().bodyModes(BodySendMode.BUFFERED, BodySendMode.NONE);
  }

  /** The server answers headers, then on the body runs {@code onBody}. */
  static java.util.function.BiConsumer<ScriptedExtProcServer.ScriptedStream, ProcessingRequest>
      onBody(java.util.function.Consumer<ScriptedExtProcServer.ScriptedStream> onBody) {
    return (s, r) -> {
      if (r.hasRequestBody()) {
        onBody.accept(s);
      } else {
        s.send(Responses.continueFor(r));
      }
    };
  }

  @Test
  void unansweredMessageTimesOutWith504AndFixedDetails() throws Exception {
    start(
        (s, r) -> {}, buffered().messageTimeout(Duration.ofMillis(200)).statusOnError(503).build());

    var response = get("/v1/models");

    // Rule 12: 504 regardless of status_on_error.
    assertThat(response.statusCode()).isEqualTo(504);
    assertThat(lastLog().responseCodeDetails())
        .isEqualTo("ext_proc_error_per-message_timeout_exceeded");
    assertThat(envoy.stats().get(ExtProcStats.MESSAGE_TIMEOUTS)).isEqualTo(1);
    assertThat(upstream.received()).isEmpty();
  }

  @Test
  void withFailureModeAllowATimeoutLetsTheRequestContinue() throws Exception {
    start(
        (s, r) -> {},
        buffered().messageTimeout(Duration.ofMillis(200)).failureModeAllow(true).build());

    assertThat(post("/v1/chat/completions", "{}").statusCode()).isEqualTo(200);
    assertThat(upstream.received()).hasSize(1);
    assertThat(envoy.stats().get(ExtProcStats.FAILURE_MODE_ALLOWED)).isEqualTo(1);
  }

  @Test
  void overrideExtendsTheHoldAndTheLateAnswerIsAccepted() throws Exception {
    start(
        onBody(
            s -> {
              // Rule 14: the cold-start pattern; answer after the original 200 ms deadline.
              s.send(Responses.override(Duration.ofSeconds(5)));
              serverClock.schedule(
                  () -> s.send(Responses.requestBody(Responses.common())),
                  600,
                  TimeUnit.MILLISECONDS);
            }),
        buffered()
            .messageTimeout(Duration.ofMillis(200))
            .maxMessageTimeout(Duration.ofSeconds(10))
            .build());

    var response = post("/v1/chat/completions", "{}");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(envoy.stats().get(ExtProcStats.OVERRIDE_MESSAGE_TIMEOUT_RECEIVED)).isEqualTo(1);
    assertThat(lastLog().duration()).isGreaterThanOrEqualTo(Duration.ofMillis(600));
  }

  @Test
  void secondOverrideForTheSameMessageIsIgnored() throws Exception {
    start(
        onBody(
            s -> {
              s.send(Responses.override(Duration.ofMillis(300)));
              s.send(Responses.override(Duration.ofSeconds(30)));
            }),
        buffered()
            .messageTimeout(Duration.ofMillis(200))
            .maxMessageTimeout(Duration.ofSeconds(60))
            .build());

    var response = post("/v1/chat/completions", "{}");

    // The first override (300 ms) holds; the second is ignored, so the request fails long before 30
    // s.
    assertThat(response.statusCode()).isEqualTo(504);
    assertThat(lastLog().duration()).isLessThan(Duration.ofSeconds(10));
    assertThat(envoy.stats().get(ExtProcStats.OVERRIDE_MESSAGE_TIMEOUT_RECEIVED)).isEqualTo(1);
    assertThat(envoy.stats().get(ExtProcStats.OVERRIDE_MESSAGE_TIMEOUT_IGNORED)).isEqualTo(1);
  }

  @Test
  void overrideAboveMaxMessageTimeoutIsIgnored() throws Exception {
    start(
        onBody(s -> s.send(Responses.override(Duration.ofSeconds(2)))),
        buffered()
            .messageTimeout(Duration.ofMillis(200))
            .maxMessageTimeout(Duration.ofSeconds(1))
            .build());

    assertThat(post("/v1/chat/completions", "{}").statusCode()).isEqualTo(504);
    assertThat(lastLog().duration()).isLessThan(Duration.ofSeconds(2));
    assertThat(envoy.stats().get(ExtProcStats.OVERRIDE_MESSAGE_TIMEOUT_IGNORED)).isEqualTo(1);
  }

  @Test
  void overrideWithoutMaxMessageTimeoutIsIgnored() throws Exception {
    start(onBody(s -> s.send(Responses.override(Duration.ofSeconds(2)))), buffered().build());

    assertThat(post("/v1/chat/completions", "{}").statusCode()).isEqualTo(504);
    assertThat(envoy.stats().get(ExtProcStats.OVERRIDE_MESSAGE_TIMEOUT_IGNORED)).isEqualTo(1);
  }

  @Test
  void overrideInFullDuplexStreamedIsIgnoredBecauseNoTimerRuns() throws Exception {
    StringBuilder body = new StringBuilder();
    start(
        (s, r) -> {
          if (r.hasRequestHeaders()) {
            s.send(Responses.override(Duration.ofSeconds(1)));
          } else if (r.hasRequestBody()) {
            // Rule 11: the headers response waits for the end of the body, then the body goes back.
            body.append(r.getRequestBody().getBody().toStringUtf8());
            if (r.getRequestBody().getEndOfStream()) {
              s.send(Responses.requestHeaders(Responses.common()));
              s.send(Responses.streamed(true, body.toString(), true));
            }
          } else {
            s.send(Responses.continueFor(r));
          }
        },
        ExtProcFilterConfig.builder()
            .processingMode(
                ExtProcFilterConfig.builder().build().processingMode().toBuilder()
                    .setRequestBodyMode(BodySendMode.FULL_DUPLEX_STREAMED)
                    .setRequestTrailerMode(
                        io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode
                            .HeaderSendMode.SEND)
                    .build())
            .messageTimeout(Duration.ofSeconds(5))
            .maxMessageTimeout(Duration.ofSeconds(10))
            .build());

    assertThat(post("/v1/chat/completions", "{\"a\":1}").statusCode()).isEqualTo(200);
    assertThat(upstream.received().get(0).body().toString()).isEqualTo("{\"a\":1}");
    assertThat(envoy.stats().get(ExtProcStats.OVERRIDE_MESSAGE_TIMEOUT_IGNORED)).isEqualTo(1);
  }

  @Test
  void overrideThenSilenceTimesOutAtTheNewDeadline() throws Exception {
    start(
        onBody(s -> s.send(Responses.override(Duration.ofMillis(1500)))),
        buffered()
            // the headers are answered at once; 400 ms leaves room for a loaded machine
            .messageTimeout(Duration.ofMillis(400))
            .maxMessageTimeout(Duration.ofSeconds(5))
            .build());

    var response = post("/v1/chat/completions", "{}");

    assertThat(response.statusCode()).isEqualTo(504);
    assertThat(lastLog().duration()).isGreaterThanOrEqualTo(Duration.ofMillis(1500));
    assertThat(envoy.stats().get(ExtProcStats.MESSAGE_TIMEOUTS)).isEqualTo(1);
  }

  @Test
  void holdLongerThanStreamIdleTimeoutGets408() throws Exception {
    start(
        onBody(s -> s.send(Responses.override(Duration.ofSeconds(10)))),
        buffered()
            .messageTimeout(Duration.ofMillis(200))
            .maxMessageTimeout(Duration.ofSeconds(30))
            .build(),
        b -> b.streamIdleTimeout(Duration.ofMillis(500)));

    var response = post("/v1/chat/completions", "{}");

    // Rule 15: side-stream traffic does not reset the idle timer.
    assertThat(response.statusCode()).isEqualTo(408);
    assertThat(lastLog().responseCodeDetails()).isEqualTo("stream_idle_timeout");
    var stream = extProc.nextStream();
    await().atMost(Duration.ofSeconds(5)).until(stream::cancelled);
  }

  @Test
  void clientDisconnectDuringHoldCancelsTheStreamAndALateResponseIsDropped() throws Exception {
    start(
        onBody(s -> s.send(Responses.override(Duration.ofSeconds(30)))),
        buffered()
            .messageTimeout(Duration.ofMillis(200))
            .maxMessageTimeout(Duration.ofSeconds(60))
            .build());
    var client = vertx.createHttpClient(new HttpClientOptions());
    var request =
        client
            .request(
                new RequestOptions()
                    .setMethod(HttpMethod.POST)
                    .setPort(envoy.port())
                    .setHost("127.0.0.1")
                    .setURI("/v1/chat/completions"))
            .await(5, TimeUnit.SECONDS);
    request.putHeader("content-length", "2").end("{}");
    var stream = extProc.nextStream();
    stream.next();
    stream.next(); // the body: now held under the override

    request.connection().close();

    // Rule 7: the server sees the stream end (half-close racing the cancel, see
    // ExtProcMessageOrderTest).
    await().atMost(Duration.ofSeconds(5)).until(stream::cancelled);
    assertThat(lastLog().responseCodeDetails()).isEqualTo("downstream_remote_disconnect");
    long received = envoy.stats().get(ExtProcStats.STREAM_MSGS_RECEIVED);
    stream.send(Responses.requestBody(Responses.common()));
    assertThat(envoy.stats().get(ExtProcStats.STREAM_MSGS_RECEIVED)).isEqualTo(received);
    assertThat(upstream.received()).isEmpty();
    await().atMost(Duration.ofSeconds(5)).until(() -> envoy.activeExtProcStreams() == 0);
    client.close();
  }

  @Test
  void routeTimeoutStartsAfterTheFiltersSoAHoldDoesNotCount() throws Exception {
    start(
        onBody(
            s -> {
              s.send(Responses.override(Duration.ofSeconds(5)));
              serverClock.schedule(
                  () -> s.send(Responses.requestBody(Responses.common())),
                  600,
                  TimeUnit.MILLISECONDS);
            }),
        buffered()
            .messageTimeout(Duration.ofMillis(200))
            .maxMessageTimeout(Duration.ofSeconds(10))
            .build());
    envoy
        .routes()
        .update(
            List.of(Route.onPrefix("short", "/", "default").withTimeout(Duration.ofMillis(400))));

    var held = post("/v1/chat/completions", "{}");
    assertThat(held.statusCode()).as("%s", envoy.accessLog()).isEqualTo(200);

    // A slow upstream, by contrast, hits the route timeout.
    extProc.script(StandInTestSupport::continueAll);
    upstream.handler((req, body) -> vertx.setTimer(2000, id -> req.response().end("late")));
    var slow = post("/v1/chat/completions", "{}");
    await().atMost(Duration.ofSeconds(5)).until(() -> envoy.accessLog().size() == 2);
    assertThat(slow.statusCode()).as("%s", envoy.accessLog()).isEqualTo(504);
    assertThat(lastLog().responseCodeDetails()).isEqualTo("upstream_response_timeout");
  }
}
