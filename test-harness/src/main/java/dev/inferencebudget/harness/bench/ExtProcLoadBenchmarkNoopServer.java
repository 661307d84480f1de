package dev.inferencebudget.harness.bench;

import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.TrailersResponse;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The benchmark's baseline: an ext_proc server that answers every message with CONTINUE and does
 * nothing else.
 */
final class ExtProcLoadBenchmarkNoopServer {
  private static final ProcessingResponse REQUEST_HEADERS =
      ProcessingResponse.newBuilder()
          .setRequestHeaders(HeadersResponse.getDefaultInstance())
          .build();
  private static final ProcessingResponse RESPONSE_HEADERS =
      ProcessingResponse.newBuilder()
          .setResponseHeaders(HeadersResponse.getDefaultInstance())
          .build();
  private static final ProcessingResponse REQUEST_BODY =
      ProcessingResponse.newBuilder().setRequestBody(BodyResponse.getDefaultInstance()).build();
  private static final ProcessingResponse RESPONSE_BODY =
      ProcessingResponse.newBuilder().setResponseBody(BodyResponse.getDefaultInstance()).build();
  private static final ProcessingResponse REQUEST_TRAILERS =
      ProcessingResponse.newBuilder()
          .setRequestTrailers(TrailersResponse.getDefaultInstance())
          .build();
  private static final ProcessingResponse RESPONSE_TRAILERS =
      ProcessingResponse.newBuilder()
          .setResponseTrailers(TrailersResponse.getDefaultInstance())
          .build();

  private ExtProcLoadBenchmarkNoopServer() {}

  static Server start() throws IOException {
    return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .maxInboundMessageSize(64 * 1024 * 1024)
        .addService(
            new ExternalProcessorGrpc.ExternalProcessorImplBase() {
              @Override
              public StreamObserver<ProcessingRequest> process(
                  StreamObserver<ProcessingResponse> out) {
                return new StreamObserver<>() {
                  @Override
                  public void onNext(ProcessingRequest r) {
                    out.onNext(
                        switch (r.getRequestCase()) {
                          case REQUEST_HEADERS -> REQUEST_HEADERS;
                          case RESPONSE_HEADERS -> RESPONSE_HEADERS;
                          case REQUEST_BODY -> REQUEST_BODY;
                          case RESPONSE_BODY -> RESPONSE_BODY;
                          case REQUEST_TRAILERS -> REQUEST_TRAILERS;
                          default -> RESPONSE_TRAILERS;
                        });
                  }

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {
                    out.onCompleted();
                  }
                };
              }
            })
        .build()
        .start();
  }
}
