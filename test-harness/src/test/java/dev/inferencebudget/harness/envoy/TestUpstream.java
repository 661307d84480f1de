package dev.inferencebudget.harness.envoy;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * A loopback HTTP/1.1 upstream that records every request and answers as the test says (default:
 * 200, JSON).
 */
final class TestUpstream implements AutoCloseable {
  /** A request as the upstream received it. */
  record Received(String method, String path, MultiMap headers, Buffer body) {}

  private final HttpServer server;
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private volatile BiConsumer<HttpServerRequest, Buffer> handler =
      (req, body) ->
          req.response()
              .putHeader("content-type", "application/json")
              .end("{\"upstream\":\"ok\",\"bytes\":" + body.length() + "}");

  TestUpstream(Vertx vertx) throws Exception {
    server =
        vertx
            .createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
            .requestHandler(
                req ->
                    req.body()
                        .onSuccess(
                            body -> {
                              MultiMap headers =
                                  MultiMap.caseInsensitiveMultiMap().addAll(req.headers());
                              received.add(
                                  new Received(req.method().name(), req.uri(), headers, body));
                              handler.accept(req, body);
                            }));
    server.listen().await(5, TimeUnit.SECONDS);
  }

  void handler(BiConsumer<HttpServerRequest, Buffer> h) {
    this.handler = h;
  }

  int port() {
    return server.actualPort();
  }

  Cluster.Endpoint endpoint() {
    return new Cluster.Endpoint("127.0.0.1", port());
  }

  List<Received> received() {
    return received;
  }

  @Override
  public void close() throws Exception {
    server.close().await(5, TimeUnit.SECONDS);
  }
}
