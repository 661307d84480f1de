package dev.inferencebudget.controller.link;

import dev.inferencebudget.proto.v1.ActivationRequest;
import dev.inferencebudget.proto.v1.ActivationResponse;
import dev.inferencebudget.proto.v1.BudgetControllerGrpc;
import dev.inferencebudget.proto.v1.BudgetRefusal;
import dev.inferencebudget.proto.v1.LoadReport;
import dev.inferencebudget.proto.v1.ModelStates;
import dev.inferencebudget.proto.v1.PeerReport;
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
 *
 * <p>On a standby, activations and load reports are also passed on to the leader ({@link
 * LeaderLink}); on the leader, {@code SyncPeer} takes the standbys' routability reports ({@link
 * PeerRoutability}) and streams them the model states.
 */
public final class ControllerApiService extends BudgetControllerGrpc.BudgetControllerImplBase {

  private static final Logger log = LoggerFactory.getLogger(ControllerApiService.class);

  private final ModelStatePublisher publisher;
  private final LoadAggregator loads;
  private final ActivationHandler activations;
  private final Clock clock;
  private final LeaderLink leader;
  private final PeerRoutability peers;

  /** A single controller replica: nothing to forward, no peers. */
  public ControllerApiService(
      ModelStatePublisher publisher,
      LoadAggregator loads,
      ActivationHandler activations,
      Clock clock) {
    this(
        publisher,
        loads,
        activations,
        clock,
        new LeaderLink(states -> {}),
        new PeerRoutability(() -> {}));
  }

  public ControllerApiService(
      ModelStatePublisher publisher,
      LoadAggregator loads,
      ActivationHandler activations,
      Clock clock,
      LeaderLink leader,
      PeerRoutability peers) {
    this.publisher = Objects.requireNonNull(publisher, "publisher");
    this.loads = Objects.requireNonNull(loads, "loads");
    this.activations = Objects.requireNonNull(activations, "activations");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.leader = Objects.requireNonNull(leader, "leader");
    this.peers = Objects.requireNonNull(peers, "peers");
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
        leader.forwardReport(this, report);
      }

      @Override
      public void onError(Throwable t) {
        // CANCELLED is how a replica going away looks; its gauges must stop counting either way.
        if (replica != null) {
          loads.forget(replica, this);
        }
        leader.endReports(this);
      }

      @Override
      public void onCompleted() {
        if (replica != null) {
          loads.forget(replica, this);
        }
        leader.endReports(this);
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
    // Recorded here too: a standby that becomes the leader applies it.
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
    ActivationResponse local = toProto(outcome);
    var forwarded = leader.forwardActivation(request);
    if (forwarded.isEmpty()) {
      responseObserver.onNext(local);
      responseObserver.onCompleted();
      return;
    }
    // The leader decides; if it cannot be reached, this replica's answer from its own last
    // decision stands (the ext-proc's held count still reaches the leader in load reports).
    forwarded
        .get()
        .whenComplete(
            (answer, error) -> {
              if (error != null) {
                log.debug("activation of {} not forwarded: {}", request.getKey(), error.toString());
              }
              responseObserver.onNext(error == null ? answer : local);
              responseObserver.onCompleted();
            });
  }

  @Override
  public StreamObserver<PeerReport> syncPeer(StreamObserver<ModelStates> responseObserver) {
    ServerCallStreamObserver<ModelStates> call =
        (ServerCallStreamObserver<ModelStates>) responseObserver;
    CoalescingSender sender = new CoalescingSender(call);
    call.setOnReadyHandler(sender::drain);
    AutoCloseable subscription = publisher.subscribe(sender::offer);
    return new StreamObserver<>() {
      private String replica;

      @Override
      public void onNext(PeerReport report) {
        replica = report.getReplica();
        peers.accept(report, this);
      }

      @Override
      public void onError(Throwable t) {
        ended();
      }

      @Override
      public void onCompleted() {
        ended();
        try {
          responseObserver.onCompleted();
        } catch (IllegalStateException e) {
          // cancelled meanwhile
        }
      }

      private void ended() {
        closeQuietly(subscription);
        if (replica != null) {
          peers.forget(replica, this);
        }
      }
    };
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
