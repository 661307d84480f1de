package dev.inferencebudget.harness.envoy;

import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * Wiring shared by the stand-in's tests: a scripted ext_proc server, a loopback upstream, the
 * stand-in between them, and an HTTP/1.1 client. Default routes: {@code x-ibc-model: m1} → cluster
 * {@code m1}, anything else → {@code default}; both clusters point at the one upstream.
 */
abstract class StandInTestSupport {
  static final String ROUTING_HEADER = "x-ibc-model";

  static Vertx vertx;
  static HttpClient http;

  ScriptedExtProcServer extProc;
  TestUpstream upstream;
  EnvoyStandIn envoy;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeAll
  static void startShared() throws Exception {
    vertx = Vertx.vertx();
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    warmUp();
  }

  /**
   * One request through a throwaway stand-in, so that class loading in a cold JVM does not eat into
   * the short message timeouts the tests use.
   */
  private static void warmUp() throws Exception {
    StandInTestSupport warm = new StandInTestSupport() {};
    try {
      warm.start(StandInTestSupport::continueAll, ExtProcFilterConfig.builder().build());
      warm.post("/warm-up", "{}");
    } finally {
      warm.closeAll();
    }
  }

  @AfterAll
  static void stopShared() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
    closeables.clear();
  }

  /**
   * Starts the scripted server, the upstream and a stand-in with the given filter and listener
   * settings.
   */
  void start(
      BiConsumer<ScriptedExtProcServer.ScriptedStream, ProcessingRequest> script,
      ExtProcFilterConfig filter,
      UnaryOperator<EnvoyStandInConfig.Builder> listener)
      throws Exception {
    startServer(script, 64 * 1024 * 1024);
    startStandIn(filter, listener);
  }

  void start(
      BiConsumer<ScriptedExtProcServer.ScriptedStream, ProcessingRequest> script,
      ExtProcFilterConfig filter)
      throws Exception {
    start(script, filter, b -> b);
  }

  void startServer(
      BiConsumer<ScriptedExtProcServer.ScriptedStream, ProcessingRequest> script,
      int maxInboundBytes)
      throws IOException {
    extProc = new ScriptedExtProcServer(script, maxInboundBytes);
    closeables.add(extProc);
  }

  void startStandIn(ExtProcFilterConfig filter, UnaryOperator<EnvoyStandInConfig.Builder> listener)
      throws Exception {
    upstream = new TestUpstream(vertx);
    closeables.add(upstream);
    envoy =
        EnvoyStandIn.start(
            listener.apply(EnvoyStandInConfig.builder().extProc(filter, extProc.address())).build(),
            vertx);
    closeables.add(envoy);
    envoy.clusters().update(Cluster.ofEndpoints("m1", List.of(upstream.endpoint())));
    envoy.clusters().update(Cluster.ofEndpoints("default", List.of(upstream.endpoint())));
    envoy
        .routes()
        .update(
            List.of(
                Route.onHeader("m1", ROUTING_HEADER, "m1", "m1"),
                Route.onPrefix("default", "/", "default")));
  }

  /** An ext_proc script that answers every message with CONTINUE. */
  static void continueAll(ScriptedExtProcServer.ScriptedStream s, ProcessingRequest r) {
    s.send(Responses.continueFor(r));
  }

  HttpResponse<String> get(String path) throws Exception {
    return send(HttpRequest.newBuilder(uri(path)).GET().build());
  }

  HttpResponse<String> post(String path, String body, Map<String, String> headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(b::header);
    return send(b.build());
  }

  HttpResponse<String> post(String path, String body) throws Exception {
    return post(path, body, Map.of("content-type", "application/json"));
  }

  HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  URI uri(String path) {
    return URI.create(envoy.baseUrl() + path);
  }

  /** The access log entry of the only (or last) finished request. */
  AccessLogEntry lastLog() {
    await().atMost(Duration.ofSeconds(5)).until(() -> !envoy.accessLog().isEmpty());
    List<AccessLogEntry> log = envoy.accessLog();
    return log.get(log.size() - 1);
  }

  static String repeat(char c, int n) {
    return String.valueOf(c).repeat(n);
  }
}
