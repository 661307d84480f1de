package dev.inferencebudget.controller.link;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.proto.v1.PeerReport;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PeerRoutabilityTest {

  private static PeerReport report(String replica, int envoys, String... routable) {
    return PeerReport.newBuilder()
        .setReplica(replica)
        .setConnectedEnvoys(envoys)
        .addAllRoutable(Set.of(routable))
        .build();
  }

  @Test
  void withoutPeersTheLeadersOwnAnswerStands() {
    PeerRoutability peers = new PeerRoutability(() -> {});
    assertThat(peers.combine(Set.of("a"), 0).test("a")).isTrue();
    assertThat(peers.combine(Set.of(), 0).test("a")).isFalse();
  }

  @Test
  void aStandbyWithEnvoysVetoesAndTheLeaderWithoutEnvoysHasNoSay() {
    PeerRoutability peers = new PeerRoutability(() -> {});
    Object stream = new Object();
    peers.accept(report("b", 2, "a"), stream);

    assertThat(peers.combine(Set.of(), 0).test("a")).isTrue(); // leader has no Envoys
    assertThat(peers.combine(Set.of(), 1).test("a")).isFalse(); // leader's Envoy has not ACKed
    assertThat(peers.combine(Set.of("a", "c"), 1).test("c")).isFalse(); // the standby's veto
    assertThat(peers.combine(Set.of("a"), 1).test("a")).isTrue();
  }

  @Test
  void aStandbyWithoutEnvoysHasNoSay() {
    PeerRoutability peers = new PeerRoutability(() -> {});
    peers.accept(report("b", 0), new Object());
    assertThat(peers.combine(Set.of("a"), 1).test("a")).isTrue();
  }

  @Test
  void aStandbysSayEndsWithItsStreamButNotWithAnOlderStreamOfIt() {
    AtomicInteger changes = new AtomicInteger();
    PeerRoutability peers = new PeerRoutability(changes::incrementAndGet);
    Object old = new Object();
    Object current = new Object();
    peers.accept(report("b", 1), old);
    peers.accept(report("b", 1), current);

    peers.forget("b", old);
    assertThat(peers.combine(Set.of("a"), 1).test("a")).isFalse();
    peers.forget("b", current);
    assertThat(peers.combine(Set.of("a"), 1).test("a")).isTrue();
    assertThat(changes).hasValue(3);
  }
}
