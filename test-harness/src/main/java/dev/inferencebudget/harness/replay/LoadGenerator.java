package dev.inferencebudget.harness.replay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;

/**
 * Sends the planned requests to an OpenAI base URL at their planned wall times, as streamed chat
 * completions ({@code stream_options.include_usage}), with at most {@code maxConcurrency} in flight
 * (beyond that a request waits for a slot and its send lag grows), and records each outcome.
 *
 * <p>The prompt is a text of four bytes per token, which the vLLM simulator counts as exactly the
 * planned prompt tokens (its approximation is {@code ceil(bytes / 4)} plus 7 for one user message
 * and the assistant turn), and {@code max_tokens} is the planned completion, which the simulator
 * generates exactly. The JDK's HTTP client is used rather than the OpenAI SDK: the replay needs the
 * raw status and error body of refusals and the time of the first streamed byte, which the SDK
 * hides behind exceptions and retries.
 */
public final class LoadGenerator {
  // The simulator's chat template tokens: 4 per message and 3 for the assistant turn.
  private static final int CHAT_OVERHEAD_TOKENS = 7;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI chatCompletions;
  private final int maxConcurrency;
  private final Duration requestTimeout;
  private final LongSupplier nanoTime;
  private final IntFunction<RequestOutcome.Arrival> arrivalProbe;
  private final HttpClient http;
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong done = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();

  /**
   * @param openAiBaseUrl for example {@code http://127.0.0.1:8080/v1}
   * @param maxConcurrency the most requests in flight at once
   * @param requestTimeout a request without a complete response after this counts as failed
   * @param nanoTime the wall clock
   * @param arrivalProbe for a model index, whether it has a ready replica right now
   */
  public LoadGenerator(
      URI openAiBaseUrl,
      int maxConcurrency,
      Duration requestTimeout,
      LongSupplier nanoTime,
      IntFunction<RequestOutcome.Arrival> arrivalProbe) {
    Objects.requireNonNull(openAiBaseUrl, "openAiBaseUrl");
    String base = openAiBaseUrl.toString();
    this.chatCompletions =
        URI.create((base.endsWith("/") ? base : base + "/") + "chat/completions");
    if (maxConcurrency < 1) {
      throw new IllegalArgumentException("max-concurrency = " + maxConcurrency + ", must be >= 1");
    }
    this.maxConcurrency = maxConcurrency;
    this.requestTimeout = Objects.requireNonNull(requestTimeout, "requestTimeout");
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    this.arrivalProbe = Objects.requireNonNull(arrivalProbe, "arrivalProbe");
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
  }

  /** Counters for a progress display, readable at any time from any thread. */
  public record Progress(long sent, long done, long failed) {}

  public Progress progress() {
    return new Progress(sent.get(), done.get(), failed.get());
  }

  /**
   * Sends every planned request at its wall offset from now and returns once each has an outcome,
   * in plan order.
   */
  public List<RequestOutcome> run(List<PlannedRequest> plan) throws InterruptedException {
    Objects.requireNonNull(plan, "plan");
    RequestOutcome[] outcomes = new RequestOutcome[plan.size()];
    CountDownLatch finished = new CountDownLatch(plan.size());
    ExecutorService workers = Executors.newFixedThreadPool(maxConcurrency, daemon("replay-send"));
    ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(daemon("replay-clock"));
    try {
      long startNanos = nanoTime.getAsLong();
      String filler = "abc ".repeat(maxPromptTokens(plan));
      for (PlannedRequest request : plan) {
        long plannedNanos = startNanos + request.wallOffsetNanos();
        Runnable send =
            () -> {
              try {
                outcomes[request.index()] = send(request, plannedNanos, filler);
              } finally {
                finished.countDown();
              }
            };
        long delayNanos = plannedNanos - nanoTime.getAsLong();
        timer.schedule(() -> workers.execute(send), Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
      }
      finished.await();
    } finally {
      timer.shutdownNow();
      workers.shutdownNow();
    }
    List<RequestOutcome> result = new ArrayList<>(outcomes.length);
    Collections.addAll(result, outcomes);
    return List.copyOf(result);
  }

  private RequestOutcome send(PlannedRequest request, long plannedNanos, String filler) {
    RequestOutcome.Arrival arrival = arrivalProbe.apply(request.model());
    long sentNanos = nanoTime.getAsLong();
    long lagNanos = Math.max(0, sentNanos - plannedNanos);
    sent.incrementAndGet();
    HttpRequest httpRequest =
        HttpRequest.newBuilder(chatCompletions)
            .timeout(requestTimeout)
            .header("content-type", "application/json")
            .header("authorization", "Bearer replay")
            .POST(HttpRequest.BodyPublishers.ofString(body(request, filler)))
            .build();
    try {
      HttpResponse<InputStream> response =
          http.send(httpRequest, HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream in = response.body()) {
        if (response.statusCode() != 200) {
          String code = errorCode(new String(in.readAllBytes(), StandardCharsets.UTF_8));
          long latency = nanoTime.getAsLong() - sentNanos;
          failed.incrementAndGet();
          return new RequestOutcome(
              request.index(),
              request.model(),
              arrival,
              response.statusCode(),
              Optional.of(code),
              lagNanos,
              Optional.empty(),
              latency,
              0);
        }
        return readStream(request, arrival, in, sentNanos, lagNanos);
      }
    } catch (IOException e) {
      failed.incrementAndGet();
      return new RequestOutcome(
          request.index(),
          request.model(),
          arrival,
          0,
          Optional.of(e.getClass().getSimpleName()),
          lagNanos,
          Optional.empty(),
          nanoTime.getAsLong() - sentNanos,
          0);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failed.incrementAndGet();
      return new RequestOutcome(
          request.index(),
          request.model(),
          arrival,
          0,
          Optional.of("interrupted"),
          lagNanos,
          Optional.empty(),
          nanoTime.getAsLong() - sentNanos,
          0);
    }
  }

  private RequestOutcome readStream(
      PlannedRequest request,
      RequestOutcome.Arrival arrival,
      InputStream in,
      long sentNanos,
      long lagNanos)
      throws IOException {
    BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    Optional<Long> firstChunkNanos = Optional.empty();
    long completionTokens = 0;
    boolean sawDone = false;
    String line;
    while ((line = lines.readLine()) != null) {
      if (!line.startsWith("data:")) {
        continue;
      }
      String data = line.substring("data:".length()).strip();
      if (firstChunkNanos.isEmpty()) {
        firstChunkNanos = Optional.of(nanoTime.getAsLong() - sentNanos);
      }
      if (data.equals("[DONE]")) {
        sawDone = true;
        continue;
      }
      if (data.contains("\"usage\"")) {
        JsonNode usage = JSON.readTree(data).path("usage");
        if (usage.has("completion_tokens")) {
          completionTokens = usage.get("completion_tokens").asLong();
        }
      }
    }
    long latency = nanoTime.getAsLong() - sentNanos;
    Optional<String> error = sawDone ? Optional.empty() : Optional.of("stream_incomplete");
    if (sawDone) {
      done.incrementAndGet();
    } else {
      failed.incrementAndGet();
    }
    return new RequestOutcome(
        request.index(),
        request.model(),
        arrival,
        200,
        error,
        lagNanos,
        firstChunkNanos,
        latency,
        completionTokens);
  }

  static String body(PlannedRequest request, String filler) {
    int contentTokens = Math.max(1, request.promptTokens() - CHAT_OVERHEAD_TOKENS);
    ObjectNode body = JSON.createObjectNode();
    body.put("model", request.modelName());
    ObjectNode message = body.putArray("messages").addObject();
    message.put("role", "user");
    message.put("content", filler.substring(0, Math.min(filler.length(), contentTokens * 4)));
    body.put("max_tokens", request.completionTokens());
    body.put("stream", true);
    body.putObject("stream_options").put("include_usage", true);
    return body.toString();
  }

  /** The OpenAI error's {@code code}, else its {@code type}, else {@code "unparsed"}. */
  static String errorCode(String body) {
    try {
      JsonNode error = JSON.readTree(body).path("error");
      JsonNode code = error.path("code");
      if (!code.isMissingNode() && !code.isNull() && !code.asText().isBlank()) {
        return code.asText();
      }
      JsonNode type = error.path("type");
      if (!type.isMissingNode() && !type.isNull()) {
        return type.asText();
      }
    } catch (IOException e) {
      // not JSON (an empty 503 from a proxy, for example): reported as such
    }
    return "unparsed";
  }

  private static int maxPromptTokens(List<PlannedRequest> plan) {
    int max = 1;
    for (PlannedRequest request : plan) {
      max = Math.max(max, request.promptTokens());
    }
    return max;
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    AtomicLong count = new AtomicLong();
    return runnable -> {
      Thread thread = new Thread(runnable, name + "-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
