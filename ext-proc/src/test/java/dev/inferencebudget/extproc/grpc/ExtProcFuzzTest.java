package dev.inferencebudget.extproc.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.api.ModelState.MaxTokensPolicy;
import dev.inferencebudget.extproc.testing.EnvoyDriver.Exchange;
import dev.inferencebudget.extproc.testing.Models;
import dev.inferencebudget.extproc.testing.TestServer;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * 10,000 requests with random, mutated and truncated bodies (fixed seed): every one gets a
 * well-formed answer, none a 500, and afterwards nothing is left charged, in flight, queued or
 * held.
 */
class ExtProcFuzzTest {
  static final String[] PATHS = {"/v1/chat/completions", "/v1/completions", "/v1/embeddings"};
  static final String[] SEEDS = {
    "{\"model\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello, how are you?\"}],\"max_tokens\":30}",
    "{\"model\":\"b\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief\"},{\"role\":\"user\",\"name\":\"x\",\"content\":[{\"type\":\"text\",\"text\":\"Hé 漢字 😀\"}]}],\"stream\":true,\"stream_options\":{\"include_usage\":true},\"n\":2}",
    "{\"model\":\"c\",\"prompt\":[\"one\",\"two\"],\"max_completion_tokens\":5}",
    "{\"model\":\"d\",\"prompt\":[[1,2,3],[4,5]],\"max_tokens\":null}",
    "{\"model\":\"a\",\"input\":[\"embed me\",\"and me\"]}",
    "{\"model\":\"zzz\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"prompt\":\"p\",\"input\":\"i\"}",
    "{\"model\":\"b\",\"messages\":[{\"role\":\"user\",\"content\":\""
        + "long ".repeat(40)
        + "\"}],\"max_tokens\":500}",
    // Long enough for the count cache, counted against b's 60-token limit.
    "{\"model\":\"b\",\"messages\":[{\"role\":\"user\",\"content\":\""
        + "a repeated conversation prefix ".repeat(40)
        + "\"}]}",
    "{\"model\":\"e\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
        + "\"parameters\":{\"type\":\"object\"}}}],\"messages\":[{\"role\":\"user\",\"content\":["
        + "{\"type\":\"text\",\"text\":\"see\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:x\"}},"
        + "{\"type\":\"input_audio\",\"input_audio\":{\"data\":\"AAAA\",\"format\":\"wav\"}}]},"
        + "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"1\",\"type\":\"function\","
        + "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}],\"max_tokens\":10}",
  };

  @Test
  void randomAndTruncatedBodiesNeverEscapeOrLeak() throws Exception {
    ModelState a = Models.ready("ns/a", "a");
    ModelState b =
        Models.ready("ns/b", "b")
            .withAdmission(
                Models.policy(
                    60,
                    20,
                    MaxTokensPolicy.CLAMP,
                    1_000_000_000L,
                    1_000_000_000L,
                    5,
                    Duration.ofSeconds(5)));
    ModelState c =
        Models.limited("ns/c", "c", 1, 2)
            .withAdmission(
                Models.policy(
                    0, 0, MaxTokensPolicy.REJECT, 1_000_000_000L, 0, 3, Duration.ofSeconds(5)));
    ModelState d = Models.cold("ns/d", "d").withAdmission(Models.rates(1_000_000_000L, 0));
    Random random = new Random(20261128);
    Map<String, Integer> outcomes = new TreeMap<>();
    try (TestServer server = new TestServer(List.of(a, b, c, d, mediaModel()))) {
      for (int i = 0; i < 10_000; i++) {
        byte[] body = body(random);
        Exchange x = server.envoy.open();
        x.post(
            PATHS[random.nextInt(PATHS.length)],
            Map.of("authorization", "Bearer t" + random.nextInt(5)));
        x.next();
        x.requestBody(body);
        ProcessingResponse answer = x.next();
        assertThat(x.error()).isNull();
        String outcome;
        if (answer.hasImmediateResponse()) {
          int status = answer.getImmediateResponse().getStatus().getCodeValue();
          assertThat(status)
              .as("body %s", new String(body, StandardCharsets.UTF_8))
              .isNotEqualTo(500);
          outcome = Integer.toString(status);
        } else if (answer.hasOverrideMessageTimeout()) {
          outcome = "waiting";
          x.halfCloseAndCancel();
        } else {
          assertThat(answer.hasRequestBody()).isTrue();
          outcome = "admitted";
          switch (random.nextInt(3)) {
            case 0 -> {
              x.responseHeaders(200, "application/json", false);
              x.next();
              x.responseBody(
                  "{\"usage\":{\"prompt_tokens\":"
                      + random.nextInt(100)
                      + ",\"completion_tokens\":"
                      + random.nextInt(100)
                      + "}}",
                  true);
              x.next();
              x.halfCloseAndCancel();
            }
            case 1 -> {
              x.responseHeaders(200, "text/event-stream", false);
              x.next();
              x.responseBody("data: {\"choices\":[]}\n\nda", false);
              x.next();
              x.halfCloseAndCancel(); // client gone mid-stream
            }
            default -> x.halfCloseAndCancel(); // gone before the response
          }
        }
        outcomes.merge(outcome, 1, Integer::sum);
      }
      var engine = server.extProc.engine();
      assertThat(engine.limiter().outstandingCharges()).isZero();
      assertThat(engine.limiter().outstandingTokens()).isZero();
      for (String key : List.of("ns/a", "ns/b", "ns/c", "ns/d", "ns/e")) {
        assertThat(engine.gate().inFlight(key)).as(key).isZero();
        assertThat(engine.gate().queued(key)).as(key).isZero();
        assertThat(engine.holds().held(key)).as(key).isZero();
      }
    }
    // The mix really exercised every path.
    assertThat(outcomes).containsKeys("400", "404", "admitted", "waiting");
    assertThat(outcomes.get("admitted")).isGreaterThan(300);
  }

  /** Images and audio at a cost, a prompt limit the media can exceed, and a token rate. */
  static ModelState mediaModel() {
    ModelState.AdmissionPolicy p =
        Models.policy(1000, 50, MaxTokensPolicy.CLAMP, 1_000_000_000L, 0, 5, Duration.ofSeconds(5));
    return Models.ready("ns/e", "e")
        .withAdmission(
            new ModelState.AdmissionPolicy(
                p.maxPromptTokens(),
                p.maxCompletionTokens(),
                p.maxTokensPolicy(),
                p.tokensPerMinute(),
                p.requestsPerMinute(),
                p.tenantHeader(),
                p.queueLength(),
                p.queueWait(),
                p.tokenizer(),
                600,
                300));
  }

  /**
   * FULL_DUPLEX_STREAMED (announced in protocol_config): bodies arrive in random chunks; an
   * admitted one is answered with the delayed headers response and every byte streamed back, a
   * refused one with an immediate response; nothing leaks.
   */
  @Test
  void randomBodiesInRandomChunksOverFullDuplexNeverEscapeOrLeak() throws Exception {
    ModelState b =
        Models.ready("ns/b", "b")
            .withAdmission(
                Models.policy(
                    60,
                    20,
                    MaxTokensPolicy.CLAMP,
                    1_000_000_000L,
                    1_000_000_000L,
                    5,
                    Duration.ofSeconds(5)));
    Random random = new Random(4242);
    Map<String, Integer> outcomes = new TreeMap<>();
    try (TestServer server = new TestServer(List.of(Models.ready("ns/a", "a"), b, mediaModel()))) {
      for (int i = 0; i < 2_000; i++) {
        byte[] body = body(random);
        Exchange x = server.envoy.open();
        x.postFullDuplex(
            PATHS[random.nextInt(PATHS.length)],
            Map.of("authorization", "Bearer t" + random.nextInt(5)));
        int offset = 0;
        do {
          int end = Math.min(body.length, offset + 1 + random.nextInt(64));
          x.requestBodyChunk(java.util.Arrays.copyOfRange(body, offset, end), end == body.length);
          offset = end;
        } while (offset < body.length);
        ProcessingResponse answer = x.next();
        assertThat(x.error()).isNull();
        String outcome;
        if (answer.hasImmediateResponse()) {
          int status = answer.getImmediateResponse().getStatus().getCodeValue();
          assertThat(status)
              .as("body %s", new String(body, StandardCharsets.UTF_8))
              .isNotEqualTo(500);
          outcome = Integer.toString(status);
        } else {
          assertThat(answer.hasRequestHeaders()).isTrue();
          assertThat(answer.getRequestHeaders().getResponse().getClearRouteCache()).isTrue();
          java.io.ByteArrayOutputStream echoed = new java.io.ByteArrayOutputStream();
          boolean end;
          do {
            var streamed =
                x.next().getRequestBody().getResponse().getBodyMutation().getStreamedResponse();
            streamed.getBody().writeTo(echoed);
            end = streamed.getEndOfStream();
          } while (!end);
          assertThat(echoed.size()).isGreaterThan(0);
          outcome = "admitted";
          x.responseHeaders(200, "application/json", false);
          x.next();
          x.responseBody("{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}", true);
          x.next();
          x.halfCloseAndCancel();
        }
        outcomes.merge(outcome, 1, Integer::sum);
      }
      var engine = server.extProc.engine();
      assertThat(engine.limiter().outstandingCharges()).isZero();
      assertThat(engine.limiter().outstandingTokens()).isZero();
      for (String key : List.of("ns/a", "ns/b", "ns/e")) {
        assertThat(engine.gate().inFlight(key)).as(key).isZero();
      }
      assertThat(engine.countCache().hits()).isGreaterThan(0);
    }
    assertThat(outcomes).containsKeys("400", "404", "admitted");
  }

  static byte[] body(Random random) {
    byte[] seed = SEEDS[random.nextInt(SEEDS.length)].getBytes(StandardCharsets.UTF_8);
    return switch (random.nextInt(5)) {
      case 0 -> seed; // intact
      case 1 -> java.util.Arrays.copyOf(seed, random.nextInt(seed.length)); // truncated
      case 2 -> { // bytes flipped
        byte[] copy = seed.clone();
        for (int k = 0, n = 1 + random.nextInt(4); k < n; k++) {
          copy[random.nextInt(copy.length)] = (byte) random.nextInt(256);
        }
        yield copy;
      }
      case 3 -> { // random bytes
        byte[] junk = new byte[random.nextInt(200)];
        random.nextBytes(junk);
        yield junk;
      }
      default -> { // JSON-ish tokens
        String[] parts = {
          "{",
          "}",
          "[",
          "]",
          "\"model\"",
          ":",
          ",",
          "\"a\"",
          "\"messages\"",
          "null",
          "1",
          "-5",
          "true",
          "\"\\u00e9\"",
          "\"max_tokens\"",
          "1e99"
        };
        StringBuilder s = new StringBuilder();
        for (int k = 0, n = random.nextInt(30); k < n; k++) {
          s.append(parts[random.nextInt(parts.length)]);
        }
        yield s.toString().getBytes(StandardCharsets.UTF_8);
      }
    };
  }
}
