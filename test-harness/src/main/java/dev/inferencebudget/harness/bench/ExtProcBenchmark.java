package dev.inferencebudget.harness.bench;

import com.google.protobuf.ByteString;
import dev.inferencebudget.extproc.api.ExtProcConfig;
import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.api.ModelState.AdmissionPolicy;
import dev.inferencebudget.extproc.api.ModelState.MaxTokensPolicy;
import dev.inferencebudget.extproc.grpc.ExtProcServer;
import dev.inferencebudget.extproc.local.InMemoryControllerLink;
import dev.inferencebudget.extproc.local.InMemoryModelStates;
import dev.inferencebudget.extproc.openai.UsageScanner;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * JMH benchmarks of the ext_proc hot paths, run through the real {@code ExternalProcessor} service
 * with the transport left out (a stream observer in memory): one whole request each (request
 * headers, BUFFERED body with parse + token bound + tenant bucket charge + slot, response headers,
 * a JSON response body with usage, stream close), and the SSE usage scan of a streamed response.
 *
 * <pre>
 * mvn -B -q -o -pl test-harness -am compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
 * java -cp test-harness/target/classes:$(cat test-harness/target/classpath.txt) \
 *   org.openjdk.jmh.Main ExtProcBenchmark -f1 -wi 2 -i 3 -w 2s -r 3s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ExtProcBenchmark {

  private ExtProcServer server;
  private ExternalProcessorGrpc.ExternalProcessorImplBase service;
  private ProcessingRequest headers;
  private ProcessingRequest completionsHeaders;
  private ProcessingRequest chat4k;
  private ProcessingRequest prompt200kBound;
  private ProcessingRequest prompt200kExact;
  private ProcessingRequest prompt200kQwen;
  private ProcessingRequest responseHeaders;
  private ProcessingRequest responseBody;
  private byte[][] sseChunks;

  @Setup(Level.Trial)
  public void setUp() {
    // Rates high enough never to refuse: the cost measured is the charge, not a refusal.
    AdmissionPolicy rates =
        new AdmissionPolicy(
            0, 0, MaxTokensPolicy.CLAMP, 1L << 50, 1L << 50, "", 100, Duration.ofSeconds(30), "");
    // A prompt limit the 200 KB prompt's UTF-8 length exceeds: the tokenizer must decide.
    AdmissionPolicy exact =
        new AdmissionPolicy(
            128_000,
            0,
            MaxTokensPolicy.CLAMP,
            1L << 50,
            1L << 50,
            "",
            100,
            Duration.ofSeconds(30),
            "o200k_base");
    AdmissionPolicy qwen =
        new AdmissionPolicy(
            128_000,
            0,
            MaxTokensPolicy.CLAMP,
            1L << 50,
            1L << 50,
            "",
            100,
            Duration.ofSeconds(30),
            "qwen3");
    InMemoryModelStates states =
        new InMemoryModelStates(
            List.of(
                ModelState.ready(
                        "ns/chat",
                        List.of("chat"),
                        List.of(new ModelState.Endpoint("10.0.0.1:8000", true, "p")))
                    .withAdmission(rates),
                ModelState.ready(
                        "ns/exact",
                        List.of("exact"),
                        List.of(new ModelState.Endpoint("10.0.0.2:8000", true, "p")))
                    .withAdmission(exact),
                ModelState.ready(
                        "ns/qwen",
                        List.of("qwen"),
                        List.of(new ModelState.Endpoint("10.0.0.3:8000", true, "p")))
                    .withAdmission(qwen)));
    // The Qwen3 tokenizer.json that the ext-proc build fetched from npm (DJL, Hugging Face).
    java.nio.file.Path tokenizers =
        java.nio.file.Path.of(System.getProperty("ibc.tokenizers", "ext-proc/target/tokenizers"));
    if (System.getProperty("DJL_CACHE_DIR") == null) {
      System.setProperty("DJL_CACHE_DIR", "target/djl");
    }
    server =
        ExtProcServer.builder(
                ExtProcConfig.defaults().withMetricsPort(-1).withTokenizerDirectory(tokenizers))
            .modelStates(states)
            .controllerLink(new InMemoryControllerLink())
            .build();
    service = (ExternalProcessorGrpc.ExternalProcessorImplBase) server.service();
    if (!server.preloadTokenizer("qwen3")) {
      System.err.println(
          "Qwen3 tokenizer missing under " + tokenizers + ": qwen counts with o200k");
    }

    headers = requestHeaders("/v1/chat/completions");
    completionsHeaders = requestHeaders("/v1/completions");
    chat4k = body(chatBody(4 * 1024));
    prompt200kBound = body(promptBody("chat", 200 * 1024));
    prompt200kExact = body(promptBody("exact", 200 * 1024));
    prompt200kQwen = body(promptBody("qwen", 200 * 1024));
    responseHeaders =
        ProcessingRequest.newBuilder()
            .setResponseHeaders(
                HttpHeaders.newBuilder()
                    .setHeaders(map(":status", "200", "content-type", "application/json")))
            .build();
    responseBody =
        ProcessingRequest.newBuilder()
            .setResponseBody(
                HttpBody.newBuilder()
                    .setBody(
                        ByteString.copyFromUtf8(
                            "{\"id\":\"c\",\"choices\":[{\"message\":{\"content\":\"Hi!\"}}],"
                                + "\"usage\":{\"prompt_tokens\":900,\"completion_tokens\":3}}"))
                    .setEndOfStream(true))
            .build();
    sseChunks = sseStream();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    server.close();
  }

  /** Whole request with a 4 KB chat body (the byte bound decides; no tokenizer runs). */
  @Benchmark
  public void chat4kRequest(Blackhole bh) {
    runRequest(headers, chat4k, bh);
  }

  /** Whole request with a 200 KB prompt and no prompt limit (the byte bound decides). */
  @Benchmark
  public void prompt200kRequestBoundOnly(Blackhole bh) {
    runRequest(completionsHeaders, prompt200kBound, bh);
  }

  /**
   * Whole request with a 200 KB prompt whose UTF-8 length exceeds the model's prompt limit: decided
   * against the limit with o200k_base (the merge bound first, counting only what it cannot decide;
   * see {@code PromptCountBenchmark} for the steps apart).
   */
  @Benchmark
  public void prompt200kRequestExactCount(Blackhole bh) {
    runRequest(completionsHeaders, prompt200kExact, bh);
  }

  /** As {@link #prompt200kRequestExactCount}, counted with Qwen3's own tokenizer through DJL. */
  @Benchmark
  public void prompt200kRequestExactCountQwen3(Blackhole bh) {
    runRequest(completionsHeaders, prompt200kQwen, bh);
  }

  /** Scans a 300-event SSE completion (about 45 KB, 64-byte chunks) for its final usage. */
  @Benchmark
  public Object sseUsageScan() {
    UsageScanner scanner = UsageScanner.forResponse("text/event-stream", null);
    for (byte[] chunk : sseChunks) {
      scanner.accept(ByteBuffer.wrap(chunk));
    }
    scanner.finish();
    return scanner.usage().orElseThrow();
  }

  private void runRequest(ProcessingRequest requestHeaders, ProcessingRequest body, Blackhole bh) {
    Sink sink = new Sink(bh);
    StreamObserver<ProcessingRequest> stream = service.process(sink);
    stream.onNext(requestHeaders);
    stream.onNext(body);
    stream.onNext(responseHeaders);
    stream.onNext(responseBody);
    stream.onCompleted();
    if (sink.answers != 4 || !sink.routed) {
      throw new IllegalStateException("the request was not admitted and routed");
    }
  }

  private static ProcessingRequest requestHeaders(String path) {
    return ProcessingRequest.newBuilder()
        .setRequestHeaders(
            HttpHeaders.newBuilder()
                .setHeaders(
                    map(
                        ":method", "POST",
                        ":path", path,
                        ":authority", "gateway",
                        "content-type", "application/json",
                        "authorization", "Bearer sk-benchmark-tenant")))
        .build();
  }

  private static ProcessingRequest body(String json) {
    return ProcessingRequest.newBuilder()
        .setRequestBody(
            HttpBody.newBuilder()
                .setBody(ByteString.copyFrom(json, StandardCharsets.UTF_8))
                .setEndOfStream(true))
        .build();
  }

  /** A chat body of about {@code bytes}: a system prompt and alternating user/assistant turns. */
  static String chatBody(int bytes) {
    StringBuilder b =
        new StringBuilder(
            "{\"model\":\"chat\",\"temperature\":0.7,\"max_tokens\":256,\"messages\":["
                + "{\"role\":\"system\",\"content\":\"You are a helpful assistant. Answer briefly.\"}");
    int turn = 0;
    while (b.length() < bytes - 200) {
      b.append(",{\"role\":\"")
          .append(turn++ % 2 == 0 ? "user" : "assistant")
          .append("\",\"content\":\"")
          .append("Could you explain how token buckets refill over a minute, with an example? ")
          .append("\"}");
    }
    return b.append("]}").toString();
  }

  static String promptBody(String model, int bytes) {
    StringBuilder prompt = new StringBuilder(bytes);
    String sentence = "The quick brown fox jumps over the lazy dog near the riverbank at dawn. ";
    while (prompt.length() < bytes) {
      prompt.append(sentence);
    }
    prompt.setLength(bytes);
    return "{\"model\":\"" + model + "\",\"max_tokens\":128,\"prompt\":\"" + prompt + "\"}";
  }

  static byte[][] sseStream() {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < 300; i++) {
      s.append("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,")
          .append("\"model\":\"chat\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok")
          .append(i)
          .append(" \"},\"finish_reason\":null}]}\n\n");
    }
    s.append("data: {\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":900,")
        .append("\"completion_tokens\":300,\"total_tokens\":1200}}\n\ndata: [DONE]\n\n");
    byte[] all = s.toString().getBytes(StandardCharsets.UTF_8);
    int n = (all.length + 63) / 64;
    byte[][] chunks = new byte[n][];
    for (int i = 0; i < n; i++) {
      chunks[i] = java.util.Arrays.copyOfRange(all, i * 64, Math.min(all.length, (i + 1) * 64));
    }
    return chunks;
  }

  private static HeaderMap map(String... keyValues) {
    HeaderMap.Builder map = HeaderMap.newBuilder();
    for (int i = 0; i < keyValues.length; i += 2) {
      map.addHeaders(
          HeaderValue.newBuilder()
              .setKey(keyValues[i])
              .setRawValue(ByteString.copyFromUtf8(keyValues[i + 1])));
    }
    return map.build();
  }

  /** The server's side of a stream without a transport: counts answers. */
  private static final class Sink extends ServerCallStreamObserver<ProcessingResponse> {
    private final Blackhole bh;
    int answers;
    boolean routed;

    Sink(Blackhole bh) {
      this.bh = bh;
    }

    @Override
    public void onNext(ProcessingResponse value) {
      answers++;
      routed |= value.hasRequestBody() && value.getRequestBody().getResponse().getClearRouteCache();
      bh.consume(value);
    }

    @Override
    public void onError(Throwable t) {
      throw new IllegalStateException(t);
    }

    @Override
    public void onCompleted() {}

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public void setOnCancelHandler(Runnable onCancelHandler) {}

    @Override
    public void setCompression(String compression) {}

    @Override
    public boolean isReady() {
      return true;
    }

    @Override
    public void setOnReadyHandler(Runnable onReadyHandler) {}

    @Override
    public void request(int count) {}

    @Override
    public void setMessageCompression(boolean enable) {}

    @Override
    public void disableAutoInboundFlowControl() {}
  }
}
