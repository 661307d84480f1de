package dev.inferencebudget.harness.bench;

import dev.inferencebudget.extproc.api.ExtProcConfig;
import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.grpc.ExtProcServer;
import dev.inferencebudget.extproc.local.InMemoryControllerLink;
import dev.inferencebudget.extproc.local.InMemoryModelStates;
import dev.inferencebudget.harness.envoy.Cluster;
import dev.inferencebudget.harness.envoy.EnvoyStandIn;
import dev.inferencebudget.harness.envoy.EnvoyStandInConfig;
import dev.inferencebudget.harness.envoy.ExtProcFilterConfig;
import dev.inferencebudget.harness.envoy.Route;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.grpc.Server;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The ext_proc load benchmark of issue 3: the Envoy stand-in drives the project's ext_proc server
 * and, in the same run, a no-op ext_proc server (CONTINUE to every message) and a direct path (no
 * filter), all in front of the same loopback upstream, at a fixed offered load (open loop: latency
 * is measured from each request's scheduled send time, so a slow server cannot hide its queueing).
 * Filter configuration as the spec's bootstrap: request body BUFFERED, response body STREAMED.
 *
 * <pre>
 * mvn -B -q -o -pl test-harness -am compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
 * java -cp test-harness/target/classes:$(cat test-harness/target/classpath.txt) \
 *   dev.inferencebudget.harness.bench.ExtProcLoadBenchmark --rate=500 --seconds=10
 * </pre>
 */
@Command(
    name = "ExtProcLoadBenchmark",
    mixinStandardHelpOptions = true,
    description =
        "Added latency and throughput of the ext_proc server vs a no-op server, through the stand-in.")
public final class ExtProcLoadBenchmark implements Callable<Integer> {
  static final String MODEL = "llama-3";
  static final String KEY = "bench/llama";

  @Option(names = "--rate", description = "offered load in requests/s (default: ${DEFAULT-VALUE})")
  int rate = 500;

  @Option(
      names = "--rounds",
      description = "measured runs per path and size (default: ${DEFAULT-VALUE})")
  int rounds = 2;

  @Option(names = "--seconds", description = "measured seconds per run (default: ${DEFAULT-VALUE})")
  int seconds = 10;

  @Option(
      names = "--warmup-seconds",
      description = "warm-up seconds per run (default: ${DEFAULT-VALUE})")
  int warmupSeconds = 3;

  @Option(
      names = "--body-bytes",
      split = ",",
      description = "request body sizes (default: ${DEFAULT-VALUE})")
  int[] bodyBytes = {4 * 1024, 200 * 1024};

  @Option(
      names = "--max-prompt-tokens",
      description =
          "the model's maxPromptTokens; bodies longer in bytes need an exact count (default: ${DEFAULT-VALUE})")
  long maxPromptTokens = 131_072;

  /** How request bodies differ from one another (the token-count cache makes repeats free). */
  enum Prompts {
    /** Every request sends the same body (the cache answers every count after the first). */
    same,
    /** Every request's prompt is new text: no count is ever served from the cache. */
    unique,
    /**
     * Chats about a document: each conversation sends its own document (unique) with a system
     * prompt, then {@code --turns} turns that resend the history plus a new question.
     */
    conversation
  }

  @Option(
      names = "--prompts",
      description = "same, unique or conversation (default: ${DEFAULT-VALUE})")
  Prompts prompts = Prompts.same;

  @Option(
      names = "--turns",
      description =
          "requests per conversation with --prompts=conversation (default: ${DEFAULT-VALUE})")
  int turns = 8;

  @Option(
      names = "--token-cache-entries",
      description = "the server's token-count cache size, 0 = off (default: ${DEFAULT-VALUE})")
  long tokenCacheEntries = dev.inferencebudget.extproc.tokens.TokenCountCache.DEFAULT_ENTRIES;

  @Option(
      names = "--tokens-per-minute",
      description = "the tenant's token rate; 0 is unlimited (default: ${DEFAULT-VALUE})")
  long tokensPerMinute = 0;

  public static void main(String[] args) {
    System.exit(new CommandLine(new ExtProcLoadBenchmark()).execute(args));
  }

  /** The outcome of one run: one path, one body size. */
  record Result(
      String path,
      int bodyBytes,
      int ok,
      int errors,
      java.util.Map<String, Integer> errorKinds,
      double achievedPerSecond,
      long[] latencyNanos) {
    double percentileMillis(double p) {
      if (latencyNanos.length == 0) {
        return Double.NaN;
      }
      int i = (int) Math.ceil(p / 100.0 * latencyNanos.length) - 1;
      return latencyNanos[Math.max(0, Math.min(latencyNanos.length - 1, i))] / 1e6;
    }
  }

  @Override
  public Integer call() throws Exception {
    Vertx vertx = Vertx.vertx();
    Vertx clientVertx = Vertx.vertx();
    HttpServer upstream = startUpstream(vertx);
    InMemoryModelStates models =
        new InMemoryModelStates(
            List.of(
                ModelState.ready(
                        KEY,
                        List.of(MODEL),
                        List.of(
                            new ModelState.Endpoint(
                                "127.0.0.1:" + upstream.actualPort(), true, "pod-0")))
                    .withAdmission(
                        new ModelState.AdmissionPolicy(
                            maxPromptTokens,
                            0,
                            ModelState.MaxTokensPolicy.CLAMP,
                            tokensPerMinute,
                            0,
                            "",
                            100,
                            Duration.ofSeconds(30),
                            ""))));
    ExtProcServer ibc =
        ExtProcServer.builder(serverConfig())
            .modelStates(models)
            .controllerLink(new InMemoryControllerLink())
            .tokenCountCacheEntries(tokenCacheEntries)
            .build()
            .start();
    Server noop = ExtProcLoadBenchmarkNoopServer.start();
    ExtProcFilterConfig filter =
        ExtProcFilterConfig.builder()
            .bodyModes(BodySendMode.BUFFERED, BodySendMode.STREAMED)
            .messageTimeout(Duration.ofSeconds(10))
            .maxMessageTimeout(Duration.ofSeconds(900))
            // The spec's bootstrap raises the ext_proc cluster's circuit breakers (GIE: 40000, rule
            // 15).
            .extProcMaxRequests(40_000)
            .build();
    EnvoyStandIn direct = standIn(vertx, upstream, null, 0);
    EnvoyStandIn viaNoop = standIn(vertx, upstream, filter, noop.getPort());
    EnvoyStandIn viaIbc = standIn(vertx, upstream, filter, ibc.port());
    HttpClient client =
        clientVertx.createHttpClient(
            new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(4096));

    List<Result> results = new ArrayList<>();
    System.out.printf(
        Locale.ROOT,
        "ext_proc load benchmark: offered %d req/s, %d s measured (+%d s warm-up) per run,"
            + " request BUFFERED / response STREAMED, maxPromptTokens %d, tokensPerMinute %d, %d cores,"
            + " prompts %s%s, token-count cache %d entries%n",
        rate,
        seconds,
        warmupSeconds,
        maxPromptTokens,
        tokensPerMinute,
        Runtime.getRuntime().availableProcessors(),
        prompts,
        prompts == Prompts.conversation ? " (" + turns + " turns)" : "",
        tokenCacheEntries);
    List<String> names = List.of("direct", "no-op", "ibc");
    List<EnvoyStandIn> paths = List.of(direct, viaNoop, viaIbc);
    for (int size : bodyBytes) {
      Bodies body = bodies(size);
      for (int p = 0; p < paths.size(); p++) {
        run(client, paths.get(p), body, warmupSeconds, names.get(p), size);
      }
      // Alternate the order between rounds so that neither path always runs on a warmer (or busier)
      // machine.
      List<List<Result>> perPath = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
      for (int round = 0; round < rounds; round++) {
        for (int k = 0; k < paths.size(); k++) {
          int p = round % 2 == 0 ? k : paths.size() - 1 - k;
          long hits = ibc.engine().countCache().hits();
          long misses = ibc.engine().countCache().misses();
          Result r = run(client, paths.get(p), body, seconds, names.get(p), size);
          System.out.print("  round " + (round + 1) + " ");
          print(r);
          if (paths.get(p) == viaIbc) {
            long h = ibc.engine().countCache().hits() - hits;
            long m = ibc.engine().countCache().misses() - misses;
            System.out.printf(
                Locale.ROOT,
                "        token-count cache: %d hits, %d misses (hit rate %.1f%%)%n",
                h,
                m,
                h + m == 0 ? 0.0 : 100.0 * h / (h + m));
          }
          perPath.get(p).add(r);
        }
      }
      for (List<Result> runs : perPath) {
        Result merged = merge(runs);
        results.add(merged);
        print(merged);
      }
      report(results, size);
    }
    client.close().await(10, TimeUnit.SECONDS);
    direct.close();
    viaNoop.close();
    viaIbc.close();
    ibc.close();
    noop.shutdownNow();
    vertx.close().await(10, TimeUnit.SECONDS);
    clientVertx.close().await(10, TimeUnit.SECONDS);
    return 0;
  }

  ExtProcConfig serverConfig() {
    ExtProcConfig d = ExtProcConfig.defaults();
    return new ExtProcConfig(
        "127.0.0.1",
        0,
        -1,
        "ext-proc-bench",
        d.routingMode(),
        d.routingHeader(),
        d.maxRequestBodyBytes(),
        d.maxMessageTimeout(),
        d.holdOverrideTimeout(),
        d.tenantHeaderDefault(),
        d.priorityHeader(),
        Optional.empty());
  }

  static EnvoyStandIn standIn(
      Vertx vertx, HttpServer upstream, ExtProcFilterConfig filter, int extProcPort) {
    EnvoyStandInConfig.Builder b =
        EnvoyStandInConfig.builder().perConnectionBufferLimitBytes(16 * 1024 * 1024);
    if (filter != null) {
      b.extProc(filter, new InetSocketAddress("127.0.0.1", extProcPort));
    }
    EnvoyStandIn envoy = EnvoyStandIn.start(b.build(), vertx);
    envoy
        .clusters()
        .update(
            Cluster.ofEndpoints(
                "llm", List.of(new Cluster.Endpoint("127.0.0.1", upstream.actualPort()))));
    // The ibc path is routed by the header the server sets; the others by the catch-all to the same
    // upstream.
    envoy
        .routes()
        .update(
            List.of(
                Route.onHeader("model", "x-ibc-model", KEY, "llm"),
                Route.onPrefix("all", "/", "llm")));
    return envoy;
  }

  static HttpServer startUpstream(Vertx vertx) {
    Buffer reply =
        Buffer.buffer(
            "{\"id\":\"c\",\"object\":\"chat.completion\",\"model\":\""
                + MODEL
                + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"ok\"}}],"
                + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1,\"total_tokens\":1001}}");
    return vertx
        .createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
        .requestHandler(
            req ->
                req.body()
                    .onSuccess(
                        b ->
                            req.response()
                                .putHeader("content-type", "application/json")
                                .end(reply)))
        .listen()
        .await();
  }

  /** The body of request {@code i} of a run. */
  @FunctionalInterface
  interface Bodies {
    Buffer body(int i);
  }

  Bodies bodies(int bytes) {
    String head = "{\"model\":\"" + MODEL + "\",\"messages\":[";
    String tail = "],\"max_tokens\":16}";
    int variants = 16;
    List<String> texts = new ArrayList<>(variants);
    for (int v = 0; v < variants; v++) {
      texts.add(prose(new Random(42 + v), Math.max(0, bytes - 64)));
    }
    switch (prompts) {
      case same -> {
        Buffer body = Buffer.buffer(head + message("user", texts.get(0)) + tail);
        return i -> body;
      }
      case unique -> {
        // Templates with a number slot, copied and numbered per request: building 200 KB strings
        // on the sender thread would slow the load generator itself.
        List<Template> templates = new ArrayList<>(variants);
        for (String text : texts) {
          templates.add(
              Template.of(head + message("user", "Request " + SLOT + ". " + text) + tail));
        }
        return i -> templates.get(i % variants).numbered(i);
      }
      case conversation -> {
        String system = message("system", prose(new Random(7), 1536));
        int historyBytes = 8 * 1024;
        List<Template> templates = new ArrayList<>(variants * turns);
        for (int v = 0; v < variants; v++) {
          String document = texts.get(v).substring(0, Math.max(0, bytes - historyBytes));
          for (int turn = 0; turn < turns; turn++) {
            StringBuilder b = new StringBuilder(bytes + 1024).append(head).append(system);
            b.append(',').append(message("user", "Document " + SLOT + ". " + document));
            for (int k = 0; k < turn; k++) {
              b.append(',').append(message("assistant", prose(new Random(1000L + k), 600)));
              b.append(',').append(message("user", prose(new Random(-1000L - k), 200)));
            }
            b.append(',').append(message("user", "Question " + turn + ": what does it say?"));
            templates.add(Template.of(b.append(tail).toString()));
          }
        }
        // Request i is turn (i % turns) of conversation (i / turns), whose document is unique.
        return i -> {
          int conversation = i / turns;
          return templates
              .get((conversation % variants) * turns + i % turns)
              .numbered(conversation);
        };
      }
      default -> throw new IllegalStateException();
    }
  }

  private static final String SLOT = "#########";

  /** A body with a 9-digit number slot. */
  record Template(byte[] bytes, int slot) {
    static Template of(String body) {
      byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      return new Template(bytes, body.indexOf(SLOT)); // ASCII before the slot: same offset
    }

    Buffer numbered(int n) {
      byte[] copy = bytes.clone();
      String digits = String.format(Locale.ROOT, "%09d", n);
      for (int k = 0; k < digits.length(); k++) {
        copy[slot + k] = (byte) digits.charAt(k);
      }
      return Buffer.buffer(copy);
    }
  }

  static String message(String role, String content) {
    return "{\"role\":\"" + role + "\",\"content\":\"" + content + "\"}";
  }

  /**
   * About {@code bytes} bytes of English-like prose (sentences of common and less common words,
   * capitals, commas, numbers), so that token counts and bounds behave roughly as for real text.
   */
  static String prose(Random random, int bytes) {
    String[] words = {
      "the",
      "model",
      "budget",
      "token",
      "request",
      "prompt",
      "replica",
      "queue",
      "tenant",
      "latency",
      "answer",
      "summarise",
      "document",
      "paragraph",
      "kubernetes",
      "envoy",
      "memory",
      "scale",
      "zero",
      "cold",
      "of",
      "and",
      "to",
      "in",
      "is",
      "that",
      "for",
      "with",
      "as",
      "was",
      "on",
      "are",
      "by",
      "this",
      "be",
      "from",
      "at",
      "or",
      "an",
      "which",
      "throughput",
      "gateway",
      "controller",
      "inference",
      "accelerator",
      "quarterly",
      "revenue",
      "customer",
      "agreement",
      "deployment",
      "observability",
      "regression",
      "hypothesis",
      "architecture",
      "procurement",
      "allocation",
      "schedule",
      "priority",
      "threshold",
      "workload",
      "compliance",
      "subsidiary"
    };
    StringBuilder b = new StringBuilder(bytes + 32);
    while (b.length() < bytes) {
      int length = 6 + random.nextInt(12);
      for (int w = 0; w < length; w++) {
        String word =
            random.nextInt(25) == 0
                ? Integer.toString(random.nextInt(10_000))
                : words[random.nextInt(words.length)];
        if (w == 0) {
          word = Character.toUpperCase(word.charAt(0)) + word.substring(1);
        }
        b.append(word);
        b.append(w == length - 1 ? ". " : random.nextInt(9) == 0 ? ", " : " ");
      }
    }
    b.setLength(bytes);
    return b.toString();
  }

  /** Numbers every request of every run, so that bodies never repeat across runs. */
  private final AtomicInteger sequence = new AtomicInteger();

  /** Open loop: request i is due at start + i/rate; its latency counts from then. */
  Result run(
      HttpClient client, EnvoyStandIn envoy, Bodies bodies, int runSeconds, String name, int size)
      throws InterruptedException {
    int port = envoy.port();
    int total = rate * runSeconds;
    long[] latencies = new long[total];
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger errors = new AtomicInteger();
    java.util.Map<String, Integer> errorKinds = new java.util.concurrent.ConcurrentSkipListMap<>();
    CountDownLatch done = new CountDownLatch(total);
    long start = System.nanoTime() + 10_000_000L;
    long intervalNanos = 1_000_000_000L / rate;
    long[] lastEnd = {start};
    Thread sender =
        new Thread(
            () -> {
              for (int i = 0; i < total; i++) {
                long due = start + i * intervalNanos;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                  java.util.concurrent.locks.LockSupport.parkNanos(wait);
                }
                int index = i;
                // Never reuse a body of an earlier run (warm-up included): unique stays unique.
                int bodyIndex = sequence.getAndIncrement();
                client
                    .request(
                        new RequestOptions()
                            .setMethod(HttpMethod.POST)
                            .setHost("127.0.0.1")
                            .setPort(port)
                            .setURI("/v1/chat/completions")
                            .putHeader("content-type", "application/json")
                            .putHeader("authorization", "Bearer sk-bench-" + (index % 16)))
                    .compose(req -> req.send(bodies.body(bodyIndex)))
                    .compose(resp -> resp.body().map(b -> resp.statusCode()))
                    .onComplete(
                        ar -> {
                          long end = System.nanoTime();
                          if (ar.succeeded() && ar.result() == 200) {
                            latencies[ok.getAndIncrement()] = end - due;
                          } else {
                            errors.incrementAndGet();
                            String kind =
                                ar.succeeded()
                                    ? "HTTP " + ar.result()
                                    : ar.cause().getClass().getSimpleName();
                            errorKinds.merge(kind, 1, Integer::sum);
                          }
                          synchronized (lastEnd) {
                            lastEnd[0] = Math.max(lastEnd[0], end);
                          }
                          done.countDown();
                        });
              }
            },
            "load-" + name);
    sender.start();
    done.await(runSeconds + 120L, TimeUnit.SECONDS);
    sender.join();
    long[] measured = Arrays.copyOf(latencies, ok.get());
    Arrays.sort(measured);
    double elapsedSeconds;
    synchronized (lastEnd) {
      elapsedSeconds = (lastEnd[0] - start) / 1e9;
    }
    if (errors.get() > 0) {
      // The stand-in's access log says why (response code details), e.g. a gRPC error or a timeout.
      List<dev.inferencebudget.harness.envoy.AccessLogEntry> log = envoy.accessLog();
      log.subList(Math.max(0, log.size() - total), log.size()).stream()
          .filter(e -> e.responseCode() != 200)
          .forEach(
              e ->
                  errorKinds.merge(
                      e.responseCode() + " " + e.responseCodeDetails(), 1, Integer::sum));
    }
    return new Result(
        name, size, ok.get(), errors.get(), errorKinds, ok.get() / elapsedSeconds, measured);
  }

  static void print(Result r) {
    System.out.printf(
        Locale.ROOT,
        "%7s %-7s ok %6d  errors %5d  achieved %7.1f req/s  p50 %8.3f ms  p90 %8.3f ms  p99 %8.3f ms  max %9.3f ms%n",
        r.bodyBytes() / 1024 + " KB",
        r.path(),
        r.ok(),
        r.errors(),
        r.achievedPerSecond(),
        r.percentileMillis(50),
        r.percentileMillis(90),
        r.percentileMillis(99),
        r.percentileMillis(100));
    if (!r.errorKinds().isEmpty()) {
      System.out.println("        errors: " + r.errorKinds());
    }
  }

  static void report(List<Result> results, int size) {
    Result direct = find(results, "direct", size);
    Result noop = find(results, "no-op", size);
    Result ibc = find(results, "ibc", size);
    System.out.printf(
        Locale.ROOT,
        "%7s ibc/no-op: latency p50 %.2fx, p99 %.2fx; added latency over direct p50 %.2fx, p99 %.2fx;"
            + " throughput %.2fx%n",
        size / 1024 + " KB",
        ibc.percentileMillis(50) / noop.percentileMillis(50),
        ibc.percentileMillis(99) / noop.percentileMillis(99),
        (ibc.percentileMillis(50) - direct.percentileMillis(50))
            / (noop.percentileMillis(50) - direct.percentileMillis(50)),
        (ibc.percentileMillis(99) - direct.percentileMillis(99))
            / (noop.percentileMillis(99) - direct.percentileMillis(99)),
        ibc.achievedPerSecond() / noop.achievedPerSecond());
  }

  static Result merge(List<Result> runs) {
    Result first = runs.get(0);
    java.util.Map<String, Integer> kinds = new java.util.TreeMap<>();
    runs.forEach(r -> r.errorKinds().forEach((k, v) -> kinds.merge(k, v, Integer::sum)));
    long[] all =
        runs.stream().flatMapToLong(r -> Arrays.stream(r.latencyNanos())).sorted().toArray();
    return new Result(
        first.path(),
        first.bodyBytes(),
        runs.stream().mapToInt(Result::ok).sum(),
        runs.stream().mapToInt(Result::errors).sum(),
        kinds,
        runs.stream().mapToDouble(Result::achievedPerSecond).average().orElse(0),
        all);
  }

  static Result find(List<Result> results, String path, int size) {
    return results.stream()
        .filter(r -> r.path().equals(path) && r.bodyBytes() == size)
        .findFirst()
        .orElseThrow();
  }
}
