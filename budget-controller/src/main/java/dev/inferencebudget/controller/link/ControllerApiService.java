package dev.inferencebudget.controller.link;

import dev.inferencebudget.proto.v1.ActivationRequest;
import dev.inferencebudget.proto.v1.ActivationResponse;
import dev.inferencebudget.proto.v1.BudgetControllerGrpc;
import dev.inferencebudget.proto.v1.BudgetRefusal;
import dev.inferencebudget.proto.v1.LoadReport;
import dev.inferencebudget.proto.v1.ModelStates;
import dev.inferencebudget.proto.v1.ReportLoadResponse;
import dev.inferencebudget.proto.v1.WatchModelStatesRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code ibc.v1.BudgetController} service: model states out, load reports and activations in.
 *
 * <p>Model-state streams are flow-controlled and coalescing: a slow ext-proc replica is never sent
 * a backlog, only the newest snapshot once it can take one (each snapshot is whole, so skipping
 * intermediate ones loses nothing).
 */
public final class ControllerApiService extends BudgetControllerGrpc.BudgetControllerImplBase {

  private static final Logger log = LoggerFactory.getLogger(ControllerApiService.class);

  private final ModelStatePublisher publisher;
  private final LoadAggregator loads;
  private final ActivationHandler activations;
  private final Clock clock;

  public ControllerApiService(
      ModelStatePublisher publisher,
      LoadAggregator loads,
      ActivationHandler activations,
      Clock clock) {
    this.publisher = Objects.requireNonNull(publisher, "publisher");
    this.loads = Objects.requireNonNull(loads, "loads");
    this.activations = Objects.requireNonNull(activations, "activations");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public void watchModelStates(
      WatchModelStatesRequest request, StreamObserver<ModelStates> responseObserver) {
    ServerCallStreamObserver<ModelStates> call =
        (ServerCallStreamObserver<ModelStates>) responseObserver;
    CoalescingSender sender = new CoalescingSender(call);
    call.setOnReadyHandler(sender::drain);
    AutoCloseable subscription = publisher.subscribe(sender::offer);
    call.setOnCancelHandler(
        () -> {
          closeQuietly(subscription);
          log.debug("model-state stream of {} closed", request.getReplica());
        });
  }

  @Override
  public StreamObserver<LoadReport> reportLoad(
      StreamObserver<ReportLoadResponse> responseObserver) {
    return new StreamObserver<>() {
      private String replica;

      @Override
      public void onNext(LoadReport report) {
        replica = report.getReplica();
        loads.accept(report, this);
      }

      @Override
      public void onError(Throwable t) {
        // CANCELLED is how a replica going away looks; its gauges must stop counting either way.
        if (replica != null) {
          loads.forget(replica, this);
        }
      }

      @Override
      public void onCompleted() {
        if (replica != null) {
          loads.forget(replica, this);
        }
        responseObserver.onNext(ReportLoadResponse.getDefaultInstance());
        responseObserver.onCompleted();
      }
    };
  }

  @Override
  public void activate(
      ActivationRequest request, StreamObserver<ActivationResponse> responseObserver) {
    if (request.getKey().isEmpty()) {
      responseObserver.onError(
          Status.INVALID_ARGUMENT.withDescription("activation without a model key").asException());
      return;
    }
    Instant requestedAt =
        request.hasRequestedAt()
            ? Instant.ofEpochSecond(
                request.getRequestedAt().getSeconds(), request.getRequestedAt().getNanos())
            : clock.instant();
    ActivationHandler.Outcome outcome;
    try {
      outcome = activations.activate(request.getKey(), request.getReplica(), requestedAt);
    } catch (StatusRuntimeException e) {
      responseObserver.onError(e);
      return;
    } catch (RuntimeException e) {
      log.warn("activation of {} failed", request.getKey(), e);
      responseObserver.onError(
          Status.INTERNAL.withDescription("activation failed: " + e.getMessage()).asException());
      return;
    }
    responseObserver.onNext(toProto(outcome));
    responseObserver.onCompleted();
  }

  static ActivationResponse toProto(ActivationHandler.Outcome outcome) {
    ActivationResponse.Builder response = ActivationResponse.newBuilder();
    switch (outcome.result()) {
      case ACCEPTED -> response.setResult(ActivationResponse.Result.ACCEPTED);
      case UNKNOWN_MODEL -> response.setResult(ActivationResponse.Result.UNKNOWN_MODEL);
      case REFUSED -> response.setResult(ActivationResponse.Result.REFUSED);
    }
    outcome
        .refusal()
        .ifPresent(
            r ->
                response.setRefusal(
                    BudgetRefusal.newBuilder()
                        .setBudget(r.budgetKey())
                        .setNeededBytes(r.neededBytes())
                        .setFreeBytes(r.freeBytes())
                        .setMessage(r.message())));
    return response.build();
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      log.debug("unsubscribe failed", e);
    }
  }

  /**
   * Sends the newest pending snapshot whenever the stream is ready; older pending ones are dropped.
   */
  static final class CoalescingSender {
    private final ServerCallStreamObserver<ModelStates> call;
    private ModelStates pending;
    private long sentVersion;
    private boolean closed;

    CoalescingSender(ServerCallStreamObserver<ModelStates> call) {
      this.call = call;
    }

    synchronized void offer(ModelStates snapshot) {
      if (snapshot.getVersion() <= sentVersion) {
        return;
      }
      if (pending == null || snapshot.getVersion() > pending.getVersion()) {
        pending = snapshot;
      }
      drain();
    }

    synchronized void drain() {
      if (closed || pending == null || call.isCancelled() || !call.isReady()) {
        return;
      }
      ModelStates next = pending;
      pending = null;
      try {
        call.onNext(next);
        sentVersion = next.getVersion();
      } catch (StatusRuntimeException | IllegalStateException e) {
        // The call was cancelled between the checks and the send.
        closed = true;
      }
    }
  }
}
