package dev.inferencebudget.harness.envoy;

import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * A loopback ext_proc server whose behaviour each test scripts: for every message of every stream
 * it calls the script, which may answer at once, later, wrongly, or not at all. It records what it
 * received and how each stream ended (half-close, cancel), so tests can assert what Envoy would
 * have sent.
 */
final class ScriptedExtProcServer implements AutoCloseable {
  /** One Process stream as the server sees it. */
  static final class ScriptedStream {
    final BlockingQueue<ProcessingRequest> received = new LinkedBlockingQueue<>();
    final List<ProcessingRequest> all = new CopyOnWriteArrayList<>();
    final List<String> events = new CopyOnWriteArrayList<>();
    private final ServerCallStreamObserver<ProcessingResponse> out;

    private ScriptedStream(ServerCallStreamObserver<ProcessingResponse> out) {
      this.out = out;
    }

    synchronized void send(ProcessingResponse response) {
      if (!out.isCancelled()) {
        out.onNext(response);
      }
    }

    synchronized void complete() {
      out.onCompleted();
    }

    synchronized void fail(Status status) {
      out.onError(status.asRuntimeException());
    }

    boolean halfClosed() {
      return events.contains("half-close");
    }

    boolean cancelled() {
      return events.contains("cancel");
    }

    ProcessingRequest next() throws InterruptedException {
      ProcessingRequest r = received.poll(5, TimeUnit.SECONDS);
      if (r == null) {
        throw new AssertionError("no ProcessingRequest within 5 s; got so far: " + all);
      }
      return r;
    }
  }

  private final Server server;
  private final BlockingQueue<ScriptedStream> streams = new LinkedBlockingQueue<>();
  private final List<ScriptedStream> allStreams = new CopyOnWriteArrayList<>();
  private volatile BiConsumer<ScriptedStream, ProcessingRequest> script;

  ScriptedExtProcServer(BiConsumer<ScriptedStream, ProcessingRequest> script, int maxInboundBytes)
      throws IOException {
    this.script = script;
    this.server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .maxInboundMessageSize(maxInboundBytes)
            .addService(
                new ExternalProcessorGrpc.ExternalProcessorImplBase() {
                  @Override
                  public StreamObserver<ProcessingRequest> process(
                      StreamObserver<ProcessingResponse> responseObserver) {
                    var observer = (ServerCallStreamObserver<ProcessingResponse>) responseObserver;
                    ScriptedStream stream = new ScriptedStream(observer);
                    observer.setOnCancelHandler(() -> stream.events.add("cancel"));
                    streams.add(stream);
                    allStreams.add(stream);
                    return new StreamObserver<>() {
                      @Override
                      public void onNext(ProcessingRequest value) {
                        stream.all.add(value);
                        stream.received.add(value);
                        ScriptedExtProcServer.this.script.accept(stream, value);
                      }

                      @Override
                      public void onError(Throwable t) {
                        stream.events.add("error");
                      }

                      @Override
                      public void onCompleted() {
                        stream.events.add("half-close");
                      }
                    };
                  }
                })
            .build()
            .start();
  }

  void script(BiConsumer<ScriptedStream, ProcessingRequest> newScript) {
    this.script = newScript;
  }

  InetSocketAddress address() {
    return new InetSocketAddress("127.0.0.1", server.getPort());
  }

  /** The next stream opened (waits up to 5 s). */
  ScriptedStream nextStream() throws InterruptedException {
    ScriptedStream s = streams.poll(5, TimeUnit.SECONDS);
    if (s == null) {
      throw new AssertionError("no ext_proc stream opened within 5 s");
    }
    return s;
  }

  List<ScriptedStream> allStreams() {
    return allStreams;
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
  }
}
