package dev.inferencebudget.controller.link;

import dev.inferencebudget.proto.v1.ActivationRequest;
import dev.inferencebudget.proto.v1.ActivationResponse;
import dev.inferencebudget.proto.v1.BudgetControllerGrpc;
import dev.inferencebudget.proto.v1.LoadReport;
import dev.inferencebudget.proto.v1.ModelStates;
import dev.inferencebudget.proto.v1.PeerReport;
import dev.inferencebudget.proto.v1.ReportLoadResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A standby controller replica's connection to the leader's link API.
 *
 * <p>ext-proc replicas and Envoys connect to any controller replica (one Service in front of all).
 * Only the leader decides, so a standby passes on what reaches it: activations (unary, answered
 * with the leader's answer), load reports (one stream to the leader per ext-proc stream, so the
 * leader forgets an ext-proc's gauges when its stream ends), and, over {@code SyncPeer}, which
 * models the Envoys connected to this standby can route to. The leader answers {@code SyncPeer}
 * with its model states, which the standby republishes to its own ext-proc replicas ({@code
 * onLeaderStates}); when the stream breaks it reports {@code Optional.empty()} and the standby
 * publishes its own states again until it reconnects.
 *
 * <p>Without a leader elsewhere (this replica leads, or no leader is known) every method is a no-op
 * and {@link #forwardActivation} returns empty.
 *
 * <p>The leader is dialled with a {@link PeerTransport}: the process's TLS client credentials and
 * the name the leader's certificate is checked against. A handshake that fails on that check is
 * logged as a warning and reported by {@link #forwardActivation} with the name that was checked.
 */
public final class LeaderLink implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LeaderLink.class);

  /** How long a forwarded activation may take before the standby answers it itself. */
  public static final Duration FORWARD_TIMEOUT = Duration.ofSeconds(2);

  /** Pause before reopening a broken SyncPeer stream to the same leader. */
  public static final Duration RECONNECT_DELAY = Duration.ofSeconds(1);

  private final Consumer<Optional<ModelStates>> onLeaderStates;
  private ScheduledExecutorService reconnects; // created at the first reconnect

  // Guarded by this.
  private PeerTransport transport;
  private InetSocketAddress leader;
  private ManagedChannel channel;
  private BudgetControllerGrpc.BudgetControllerStub stub;
  private long term;
  private StreamObserver<PeerReport> peerStream;
  private PeerReport lastReport;
  private final Map<Object, StreamObserver<LoadReport>> reportStreams = new HashMap<>();
  private boolean closed;
  private long tlsWarnedIn = -1; // the term whose TLS failure was logged (once per leader)

  private volatile boolean relaying;

  /** A link that dials the leader in plaintext (until {@link #transport} says otherwise). */
  public LeaderLink(Consumer<Optional<ModelStates>> onLeaderStates) {
    this(onLeaderStates, PeerTransport.plaintext());
  }

  public LeaderLink(Consumer<Optional<ModelStates>> onLeaderStates, PeerTransport transport) {
    this.onLeaderStates = Objects.requireNonNull(onLeaderStates, "onLeaderStates");
    this.transport = Objects.requireNonNull(transport, "transport");
  }

  /** How the next leader is dialled; set before the first {@link #leaderAt}. */
  public synchronized void transport(PeerTransport newTransport) {
    this.transport = Objects.requireNonNull(newTransport, "newTransport");
  }

  /**
   * The leader's link API address, or empty when this replica leads or no leader is known. A new
   * address drops every stream to the previous one (the old leader forgets their gauges) and
   * connects to the new one.
   */
  public void leaderAt(Optional<InetSocketAddress> address) {
    Objects.requireNonNull(address, "address");
    boolean relayLost;
    synchronized (this) {
      if (closed || Objects.equals(address.orElse(null), leader)) {
        return;
      }
      relayLost = relaying;
      disconnect();
      leader = address.orElse(null);
      term++;
      if (leader != null) {
        log.info("forwarding to the leader at {}", leader);
        channel = transport.dial(leader);
        stub = BudgetControllerGrpc.newStub(channel);
        openPeerStream(term);
      }
    }
    if (relayLost) {
      relaying = false;
      onLeaderStates.accept(Optional.empty());
    }
  }

  /** Whether the leader's model states are being republished here. */
  public boolean relaying() {
    return relaying;
  }

  /** Forwards an activation to the leader; empty when there is no other leader to forward to. */
  public Optional<CompletableFuture<ActivationResponse>> forwardActivation(
      ActivationRequest request) {
    BudgetControllerGrpc.BudgetControllerStub current;
    InetSocketAddress to;
    PeerTransport via;
    synchronized (this) {
      current = stub;
      to = leader;
      via = transport;
    }
    if (current == null) {
      return Optional.empty();
    }
    CompletableFuture<ActivationResponse> answer = new CompletableFuture<>();
    current
        .withDeadlineAfter(FORWARD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .activate(
            request,
            new StreamObserver<>() {
              @Override
              public void onNext(ActivationResponse response) {
                answer.complete(response);
              }

              @Override
              public void onError(Throwable t) {
                answer.completeExceptionally(
                    tlsFailure(t)
                        .<Throwable>map(m -> new LeaderTlsException(to, via, m, t))
                        .orElse(t));
              }

              @Override
              public void onCompleted() {
                answer.completeExceptionally(
                    new IllegalStateException("the leader answered no activation response"));
              }
            });
    return Optional.of(answer);
  }

  /** Passes one load report of the ext-proc stream {@code stream} on to the leader. */
  public synchronized void forwardReport(Object stream, LoadReport report) {
    if (stub == null) {
      return;
    }
    StreamObserver<LoadReport> out = reportStreams.get(stream);
    if (out == null) {
      long openedIn = term;
      out =
          stub.reportLoad(
              new StreamObserver<ReportLoadResponse>() {
                @Override
                public void onNext(ReportLoadResponse value) {}

                @Override
                public void onError(Throwable t) {
                  // The next report opens a new stream (the leader may have restarted).
                  synchronized (LeaderLink.this) {
                    if (term == openedIn) {
                      reportStreams.remove(stream);
                    }
                  }
                }

                @Override
                public void onCompleted() {}
              });
      reportStreams.put(stream, out);
    }
    try {
      out.onNext(report);
    } catch (RuntimeException e) {
      reportStreams.remove(stream);
    }
  }

  /** The ext-proc stream {@code stream} ended: end its stream to the leader too. */
  public synchronized void endReports(Object stream) {
    StreamObserver<LoadReport> out = reportStreams.remove(stream);
    if (out != null) {
      try {
        out.onCompleted();
      } catch (RuntimeException e) {
        // already broken
      }
    }
  }

  /** Tells the leader what this replica's Envoys can route to; sends only changes. */
  public synchronized void report(PeerReport report) {
    Objects.requireNonNull(report, "report");
    if (report.equals(lastReport)) {
      return;
    }
    lastReport = report;
    if (peerStream != null) {
      try {
        peerStream.onNext(report);
      } catch (RuntimeException e) {
        log.debug("peer report not sent; sent again on reconnect", e);
      }
    }
  }

  private void openPeerStream(long openedIn) {
    peerStream =
        stub.syncPeer(
            new StreamObserver<>() {
              @Override
              public void onNext(ModelStates states) {
                synchronized (LeaderLink.this) {
                  if (term != openedIn) {
                    return;
                  }
                }
                relaying = true;
                onLeaderStates.accept(Optional.of(states));
              }

              @Override
              public void onError(Throwable t) {
                ended(openedIn, t);
              }

              @Override
              public void onCompleted() {
                ended(openedIn, null);
              }
            });
    if (lastReport != null) {
      peerStream.onNext(lastReport);
    }
  }

  private void ended(long openedIn, Throwable error) {
    synchronized (this) {
      if (term != openedIn || closed) {
        return;
      }
      Optional<String> tls = tlsFailure(error);
      if (tls.isPresent() && tlsWarnedIn != openedIn) {
        tlsWarnedIn = openedIn;
        log.warn(
            "{}; retrying",
            new LeaderTlsException(leader, transport, tls.get(), error).getMessage());
      } else {
        log.debug("SyncPeer stream to {} ended; reconnecting", leader, error);
      }
      peerStream = null;
      if (reconnects == null) {
        reconnects =
            Executors.newSingleThreadScheduledExecutor(
                r -> {
                  Thread t = new Thread(r, "ibc-leader-link");
                  t.setDaemon(true);
                  return t;
                });
      }
      reconnects.schedule(
          () -> {
            synchronized (this) {
              if (term == openedIn && !closed && stub != null) {
                openPeerStream(openedIn);
              }
            }
          },
          RECONNECT_DELAY.toMillis(),
          TimeUnit.MILLISECONDS);
    }
    if (relaying) {
      relaying = false;
      onLeaderStates.accept(Optional.empty());
    }
  }

  /**
   * The message of a TLS handshake or certificate failure among {@code error}'s causes: the
   * innermost one, which says what was wrong (the outer ones say only that the engine failed).
   */
  static Optional<String> tlsFailure(Throwable error) {
    Optional<String> found = Optional.empty();
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof SSLException || t instanceof CertificateException) {
        found = Optional.of(String.valueOf(t.getMessage()));
      }
    }
    return found;
  }

  /**
   * The TLS handshake with the leader failed: most often its certificate does not name the
   * authority the standby checks it against ({@code IBC_PEER_TLS_AUTHORITY}).
   */
  public static final class LeaderTlsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    LeaderTlsException(
        InetSocketAddress leader, PeerTransport via, String detail, Throwable cause) {
      super(
          "TLS handshake with the leader at "
              + leader
              + " failed, checking its certificate against "
              + via.authority()
                  .map(a -> "the authority '" + a + "'")
                  .orElse("its address (no IBC_PEER_TLS_AUTHORITY)")
              + "; IBC_PEER_TLS_AUTHORITY must be a DNS name the controller certificate covers: "
              + detail,
          cause);
    }
  }

  private void disconnect() {
    for (StreamObserver<LoadReport> out : reportStreams.values()) {
      try {
        out.onCompleted();
      } catch (RuntimeException e) {
        // already broken
      }
    }
    reportStreams.clear();
    if (peerStream != null) {
      try {
        peerStream.onCompleted();
      } catch (RuntimeException e) {
        // already broken
      }
      peerStream = null;
    }
    if (channel != null) {
      channel.shutdown();
      channel = null;
    }
    stub = null;
  }

  @Override
  public synchronized void close() {
    closed = true;
    term++;
    disconnect();
    if (reconnects != null) {
      reconnects.shutdownNow();
    }
  }
}
