package dev.inferencebudget.extproc.grpc;

import dev.inferencebudget.extproc.flow.AdmissionEngine;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.stub.StreamObserver;
import java.util.Objects;

/** {@code envoy.service.ext_proc.v3.ExternalProcessor}: one {@link ProcessingStream} per call. */
public final class ExternalProcessorService
    extends ExternalProcessorGrpc.ExternalProcessorImplBase {
  private final AdmissionEngine engine;

  public ExternalProcessorService(AdmissionEngine engine) {
    this.engine = Objects.requireNonNull(engine, "engine");
  }

  @Override
  public StreamObserver<ProcessingRequest> process(
      StreamObserver<ProcessingResponse> responseObserver) {
    return new ProcessingStream(engine, responseObserver);
  }
}
