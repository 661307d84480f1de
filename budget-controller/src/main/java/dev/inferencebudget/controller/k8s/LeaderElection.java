package dev.inferencebudget.controller.k8s;

import dev.inferencebudget.controller.config.ControllerConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * fabric8's {@code LeaderElector} on a coordination.k8s.io Lease. Reports every change of
 * leadership to a listener; the listener decides what only a leader may do. Losing the lease does
 * not stop the process: the replica keeps its caches warm and stands by to lead again.
 */
public final class LeaderElection implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LeaderElection.class);

  private final KubernetesClient client;
  private final ControllerConfig.LeaderElection config;
  private final Consumer<Boolean> onLeadershipChange;
  private final Consumer<String> onNewLeader;
  private CompletableFuture<?> running;

  /**
   * @param onLeadershipChange whether this replica leads, on every change
   * @param onNewLeader the identity of the Lease holder whenever another one is observed (also on
   *     standbys: they forward to it)
   */
  public LeaderElection(
      KubernetesClient client,
      ControllerConfig.LeaderElection config,
      Consumer<Boolean> onLeadershipChange,
      Consumer<String> onNewLeader) {
    this.client = Objects.requireNonNull(client, "client");
    this.config = Objects.requireNonNull(config, "config");
    this.onLeadershipChange = Objects.requireNonNull(onLeadershipChange, "onLeadershipChange");
    this.onNewLeader = Objects.requireNonNull(onNewLeader, "onNewLeader");
  }

  /** Starts campaigning (or, when disabled, leads at once). */
  public synchronized void start() {
    if (!config.enabled()) {
      onNewLeader.accept(config.identity());
      onLeadershipChange.accept(true);
      return;
    }
    var electionConfig =
        new LeaderElectionConfigBuilder()
            .withName(config.leaseName())
            .withLock(new LeaseLock(config.leaseNamespace(), config.leaseName(), config.identity()))
            .withLeaseDuration(config.leaseDuration())
            .withRenewDeadline(config.renewDeadline())
            .withRetryPeriod(config.retryPeriod())
            .withReleaseOnCancel(true)
            .withLeaderCallbacks(
                new LeaderCallbacks(
                    () -> {
                      log.info("{} became the leader", config.identity());
                      onLeadershipChange.accept(true);
                    },
                    () -> {
                      log.info("{} stopped leading", config.identity());
                      onLeadershipChange.accept(false);
                    },
                    leader -> {
                      log.info("the leader is {}", leader);
                      onNewLeader.accept(leader);
                    }))
            .build();
    running = startLoop(electionConfig);
  }

  private CompletableFuture<?> startLoop(
      io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfig electionConfig) {
    // fabric8's elector gives up after losing the lease; campaign again so a former leader
    // becomes a standby rather than a replica that can never lead.
    CompletableFuture<?> loop = client.leaderElector().withConfig(electionConfig).build().start();
    loop.whenComplete(
        (ignored, error) -> {
          synchronized (this) {
            if (running == loop) {
              running = startLoop(electionConfig);
            }
          }
        });
    return loop;
  }

  /** Stops campaigning and releases the lease if held. */
  @Override
  public synchronized void close() {
    CompletableFuture<?> loop = running;
    running = null;
    if (loop != null) {
      loop.cancel(true);
    }
  }
}
