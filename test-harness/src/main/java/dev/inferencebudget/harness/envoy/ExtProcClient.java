package dev.inferencebudget.harness.envoy;

import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The ext_proc cluster: one gRPC channel (HTTP/2, like Envoy's {@code envoy_grpc} with {@code
 * http2_protocol_options}) and a circuit breaker on concurrent streams (conformance case 19).
 */
final class ExtProcClient {
  /** Callbacks of one stream, called on gRPC threads. */
  interface Listener {
    void onMessage(ProcessingResponse response);

    /**
     * The server closed the stream: OK or an error (rule 5). Not called after {@link
     * Stream#close()}.
     */
    void onClose(Status status);
  }

  private final ManagedChannel channel;
  private final int maxRequests;
  private final ExtProcStats stats;
  private final AtomicInteger active = new AtomicInteger();

  ExtProcClient(ManagedChannel channel, int maxRequests, ExtProcStats stats) {
    this.channel = Objects.requireNonNull(channel, "channel");
    this.maxRequests = maxRequests;
    this.stats = Objects.requireNonNull(stats, "stats");
  }

  int activeStreams() {
    return active.get();
  }

  /** Opens one {@code Process} stream, or returns null when the circuit breaker is open. */
  Stream open(Listener listener) {
    if (active.incrementAndGet() > maxRequests) {
      active.decrementAndGet();
      stats.inc(ExtProcStats.EXT_PROC_RQ_OVERFLOW);
      return null;
    }
    Stream stream = new Stream(listener);
    ExternalProcessorGrpc.newStub(channel).process(stream);
    return stream;
  }

  /**
   * One bidi stream. {@link #send} and {@link #close} are called from the HTTP stream's thread
   * only.
   */
  final class Stream implements ClientResponseObserver<ProcessingRequest, ProcessingResponse> {
    private final Listener listener;
    private final AtomicBoolean released = new AtomicBoolean();
    private volatile boolean closedLocally;
    private ClientCallStreamObserver<ProcessingRequest> requests;

    private Stream(Listener listener) {
      this.listener = listener;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<ProcessingRequest> requestStream) {
      this.requests = requestStream;
    }

    void send(ProcessingRequest request) {
      if (!closedLocally) {
        requests.onNext(request);
      }
    }

    /**
     * Rule 6 (GC {@code close()}): a half-close immediately followed by RST_STREAM. The server sees
     * {@code onCompleted()} and then a cancellation.
     */
    void close() {
      if (closedLocally) {
        return;
      }
      closedLocally = true;
      try {
        requests.onCompleted();
      } catch (IllegalStateException alreadyClosed) {
        // the call already ended (e.g. the server closed it first)
      }
      requests.cancel("ext_proc stream closed by Envoy", null);
      release();
    }

    @Override
    public void onNext(ProcessingResponse value) {
      if (!closedLocally) {
        listener.onMessage(value);
      }
    }

    @Override
    public void onError(Throwable t) {
      release();
      if (!closedLocally) {
        listener.onClose(Status.fromThrowable(t));
      }
    }

    @Override
    public void onCompleted() {
      release();
      if (!closedLocally) {
        listener.onClose(Status.OK);
      }
    }

    private void release() {
      if (released.compareAndSet(false, true)) {
        active.decrementAndGet();
      }
    }
  }
}
