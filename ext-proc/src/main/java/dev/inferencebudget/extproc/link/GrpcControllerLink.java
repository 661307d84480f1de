package dev.inferencebudget.extproc.link;

import com.google.protobuf.Timestamp;
import dev.inferencebudget.extproc.api.ControllerLink;
import dev.inferencebudget.extproc.api.LoadSource;
import dev.inferencebudget.extproc.api.ModelStateSource;
import dev.inferencebudget.extproc.api.ModelTable;
import dev.inferencebudget.proto.v1.ActivationRequest;
import dev.inferencebudget.proto.v1.ActivationResponse;
import dev.inferencebudget.proto.v1.BudgetControllerGrpc;
import dev.inferencebudget.proto.v1.LoadReport;
import dev.inferencebudget.proto.v1.ModelStates;
import dev.inferencebudget.proto.v1.ReportLoadResponse;
import dev.inferencebudget.proto.v1.WatchModelStatesRequest;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller link over gRPC: a {@link ModelStateSource} fed by {@code WatchModelStates}, a
 * {@link ControllerLink} for activations, and a reporter that sends {@link LoadSource} windows
 * every {@link Settings#reportInterval}.
 *
 * <p>Streams are re-opened with exponential backoff after any failure. While the controller is away
 * the last model table stays in force (ready models keep being served; cold ones wait for their
 * hold timeout), and load windows are merged, not dropped ({@link PendingLoad}). A new stream's
 * first snapshot is always taken, even with a lower version: a controller that restarted or a new
 * leader numbers its snapshots afresh. Within one stream older snapshots are ignored.
 *
 * <p>All mutable state is confined to the single-threaded {@code executor}; gRPC callbacks hop onto
 * it.
 */
public final class GrpcControllerLink implements ControllerLink, ModelStateSource, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(GrpcControllerLink.class);

  /** How the link behaves; {@link #defaults} lists every default. */
  public record Settings(
      String replica,
      Duration reportInterval,
      Duration activationTimeout,
      Duration initialBackoff,
      Duration maxBackoff) {
    public Settings {
      Objects.requireNonNull(replica, "replica");
      positive(reportInterval, "reportInterval");
      positive(activationTimeout, "activationTimeout");
      positive(initialBackoff, "initialBackoff");
      positive(maxBackoff, "maxBackoff");
      if (maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalArgumentException(
            "maxBackoff = " + maxBackoff + ", must be at least initialBackoff = " + initialBackoff);
      }
    }

    public static Settings defaults(String replica) {
      return new Settings(
          replica,
          Duration.ofSeconds(1),
          Duration.ofSeconds(5),
          Duration.ofMillis(200),
          Duration.ofSeconds(10));
    }

    public Settings withBackoff(Duration initial, Duration max) {
      return new Settings(replica, reportInterval, activationTimeout, initial, max);
    }

    public Settings withReportInterval(Duration interval) {
      return new Settings(replica, interval, activationTimeout, initialBackoff, maxBackoff);
    }

    private static void positive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isZero() || d.isNegative()) {
        throw new IllegalArgumentException(name + " = " + d + ", must be positive");
      }
    }
  }

  private final BudgetControllerGrpc.BudgetControllerStub stub;
  private final LoadSource loads;
  private final Settings settings;
  private final ScheduledExecutorService executor;
  private final Clock clock;
  private final List<Consumer<ModelTable>> listeners = new CopyOnWriteArrayList<>();
  private volatile ModelTable current = ModelTable.empty();
  private volatile boolean connected;

  // Confined to the executor.
  private final PendingLoad pending = new PendingLoad();
  private Context.CancellableContext watchContext;
  private Duration watchBackoff;
  private ClientCallStreamObserver<LoadReport> reportStream;
  private ScheduledFuture<?> reporter;
  private boolean closed;

  /**
   * @param channel to the controller's link port; the caller owns it and shuts it down
   * @param executor single-threaded; the caller owns it
   */
  public GrpcControllerLink(
      Channel channel,
      LoadSource loads,
      Settings settings,
      ScheduledExecutorService executor,
      Clock clock) {
    this.stub = BudgetControllerGrpc.newStub(Objects.requireNonNull(channel, "channel"));
    this.loads = Objects.requireNonNull(loads, "loads");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.executor = Objects.requireNonNull(executor, "executor");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.watchBackoff = settings.initialBackoff();
  }

  /** Opens the model-state stream and starts reporting load. */
  public void start() {
    executor.execute(
        () -> {
          openWatch();
          long periodMillis = settings.reportInterval().toMillis();
          reporter =
              executor.scheduleAtFixedRate(
                  this::reportOnce, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
        });
  }

  @Override
  public ModelTable current() {
    return current;
  }

  @Override
  public AutoCloseable subscribe(Consumer<ModelTable> listener) {
    Objects.requireNonNull(listener, "listener");
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  /** Whether the model-state stream has delivered a snapshot since it was last (re)opened. */
  public boolean connected() {
    return connected;
  }

  @Override
  public CompletionStage<Activation> activate(String modelKey) {
    CompletableFuture<Activation> answer = new CompletableFuture<>();
    ActivationRequest request =
        ActivationRequest.newBuilder()
            .setKey(modelKey)
            .setReplica(settings.replica())
            .setRequestedAt(
                Timestamp.newBuilder()
                    .setSeconds(clock.instant().getEpochSecond())
                    .setNanos(clock.instant().getNano()))
            .build();
    stub.withDeadlineAfter(settings.activationTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .activate(
            request,
            new StreamObserver<>() {
              @Override
              public void onNext(ActivationResponse response) {
                try {
                  answer.complete(ProtoConversions.toActivation(response));
                } catch (RuntimeException e) {
                  answer.completeExceptionally(e);
                }
              }

              @Override
              public void onError(Throwable t) {
                answer.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {
                answer.completeExceptionally(
                    new IllegalStateException("activation answered with no response"));
              }
            });
    return answer;
  }

  @Override
  public void close() {
    executor.execute(
        () -> {
          closed = true;
          if (reporter != null) {
            reporter.cancel(false);
          }
          if (watchContext != null) {
            watchContext.cancel(null);
          }
          if (reportStream != null) {
            reportStream.onCompleted();
            reportStream = null;
          }
        });
  }

  private void openWatch() {
    if (closed) {
      return;
    }
    Context.CancellableContext context = Context.current().withCancellation();
    watchContext = context;
    WatchObserver observer = new WatchObserver(context);
    context.run(
        () ->
            stub.watchModelStates(
                WatchModelStatesRequest.newBuilder().setReplica(settings.replica()).build(),
                observer));
  }

  private void onWatchEnded(Context.CancellableContext context, Throwable cause) {
    if (closed || context != watchContext) {
      return;
    }
    connected = false;
    Duration delay = watchBackoff;
    watchBackoff = watchBackoff.multipliedBy(2);
    if (watchBackoff.compareTo(settings.maxBackoff()) > 0) {
      watchBackoff = settings.maxBackoff();
    }
    log.warn(
        "model-state stream to the controller ended ({}); keeping the last table ({}), retrying"
            + " in {} ms",
        cause == null ? "closed by the controller" : cause.getMessage(),
        current,
        delay.toMillis());
    executor.schedule(this::openWatch, delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void onSnapshot(ModelStates snapshot) {
    // Numbered locally: the controller's versions restart with a new leader, ours never go back.
    ModelTable table =
        new ModelTable(current.version() + 1, ProtoConversions.toTable(snapshot).models());
    current = table;
    connected = true;
    watchBackoff = settings.initialBackoff();
    for (Consumer<ModelTable> listener : listeners) {
      try {
        listener.accept(table);
      } catch (RuntimeException e) {
        log.warn("model-table listener failed", e);
      }
    }
  }

  private void reportOnce() {
    if (closed) {
      return;
    }
    try {
      pending.add(loads.drainWindow());
    } catch (RuntimeException e) {
      log.warn("reading the load window failed", e);
      return;
    }
    if (pending.isEmpty()) {
      return;
    }
    if (reportStream == null) {
      ReportObserver observer = new ReportObserver();
      reportStream = (ClientCallStreamObserver<LoadReport>) stub.reportLoad(observer);
      observer.stream = reportStream;
    }
    LoadReport report =
        ProtoConversions.toLoadReport(settings.replica(), clock.instant(), pending.peek());
    try {
      // A failed or flow-controlled stream is not ready: keep merging until it is (or is replaced).
      if (!reportStream.isReady()) {
        return;
      }
      reportStream.onNext(report);
      // Handed to gRPC; a failure of the stream after this point loses at most this window.
      pending.clear();
    } catch (RuntimeException e) {
      log.debug("load report not sent; kept for the next one", e);
      reportStream = null;
    }
  }

  /**
   * Hands a gRPC callback to the link's thread. A stream may close after its owner stopped that
   * thread (shutdown after {@link #close()}); the link is closed then and the callback has nothing
   * left to do, so it is dropped instead of failing on gRPC's thread.
   */
  private void onLinkThread(Runnable task) {
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      if (!executor.isShutdown()) {
        throw e;
      }
    }
  }

  /** Observes one model-state stream; ignores it once a newer stream replaced it. */
  private final class WatchObserver implements StreamObserver<ModelStates> {
    private final Context.CancellableContext context;
    private long lastVersion = -1;

    WatchObserver(Context.CancellableContext context) {
      this.context = context;
    }

    @Override
    public void onNext(ModelStates snapshot) {
      onLinkThread(
          () -> {
            if (closed || context != watchContext || snapshot.getVersion() <= lastVersion) {
              return;
            }
            lastVersion = snapshot.getVersion();
            onSnapshot(snapshot);
          });
    }

    @Override
    public void onError(Throwable t) {
      onLinkThread(() -> onWatchEnded(context, t));
    }

    @Override
    public void onCompleted() {
      onLinkThread(() -> onWatchEnded(context, null));
    }
  }

  /** Drops the report stream on failure so the next tick opens a new one. */
  private final class ReportObserver implements StreamObserver<ReportLoadResponse> {
    private StreamObserver<LoadReport> stream;

    @Override
    public void onNext(ReportLoadResponse value) {}

    @Override
    public void onError(Throwable t) {
      log.debug("load-report stream ended: {}", t.getMessage());
      onLinkThread(this::forget);
    }

    @Override
    public void onCompleted() {
      onLinkThread(this::forget);
    }

    private void forget() {
      if (reportStream == stream) {
        reportStream = null;
      }
    }
  }
}
