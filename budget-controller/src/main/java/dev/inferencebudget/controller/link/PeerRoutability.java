package dev.inferencebudget.controller.link;

import dev.inferencebudget.proto.v1.PeerReport;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The leader's view of what the Envoys connected to the standbys can route to, from their {@code
 * SyncPeer} reports, and the rule that combines it with the leader's own Envoys.
 *
 * <p>A model is routable when every Envoy can send to a ready replica of it, wherever that Envoy is
 * connected: so a replica with synced Envoys has a veto, a replica without Envoys has no say. When
 * no replica has an Envoy, the leader's own answer stands (it applies {@code
 * XdsConfig.withoutEnvoys}).
 */
public final class PeerRoutability {

  private record Peer(Object stream, int envoys, Set<String> routable) {}

  private final Runnable onChange;
  private final Map<String, Peer> peers = new HashMap<>();

  /** {@code onChange} runs after a report changed what a standby can route (must not block). */
  public PeerRoutability(Runnable onChange) {
    this.onChange = Objects.requireNonNull(onChange, "onChange");
  }

  /** Records a standby's report received on {@code stream}. */
  public void accept(PeerReport report, Object stream) {
    Objects.requireNonNull(report, "report");
    Objects.requireNonNull(stream, "stream");
    synchronized (this) {
      peers.put(
          report.getReplica(),
          new Peer(stream, report.getConnectedEnvoys(), Set.copyOf(report.getRoutableList())));
    }
    onChange.run();
  }

  /** The standby's stream ended: it has no say any more, unless it reconnected already. */
  public void forget(String replica, Object stream) {
    boolean removed;
    synchronized (this) {
      Peer peer = peers.get(replica);
      removed = peer != null && peer.stream() == stream;
      if (removed) {
        peers.remove(replica);
      }
    }
    if (removed) {
      onChange.run();
    }
  }

  /**
   * Whether a model is routable over every replica's Envoys, given the leader's own answer.
   *
   * @param localRoutable the models the leader's own Envoys can route to
   * @param localEnvoys the leader's synced Envoys
   */
  public Predicate<String> combine(Set<String> localRoutable, int localEnvoys) {
    List<Set<String>> vetoes = new ArrayList<>();
    synchronized (this) {
      for (Peer peer : peers.values()) {
        if (peer.envoys() > 0) {
          vetoes.add(peer.routable());
        }
      }
    }
    if (localEnvoys > 0 || vetoes.isEmpty()) {
      vetoes.add(localRoutable);
    }
    return key -> {
      for (Set<String> routable : vetoes) {
        if (!routable.contains(key)) {
          return false;
        }
      }
      return true;
    };
  }

  /** Connected standbys (for tests and logs). */
  public synchronized Set<String> peers() {
    return Set.copyOf(peers.keySet());
  }
}
