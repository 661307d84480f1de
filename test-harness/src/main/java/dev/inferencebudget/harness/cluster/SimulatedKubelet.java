package dev.inferencebudget.harness.cluster;

import dev.inferencebudget.harness.vllm.VllmSimulator;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns Deployment replicas into running vLLM simulators, Pods and EndpointSlices, as the
 * Deployment controller, scheduler, kubelet and EndpointSlice controller would together.
 *
 * <p>For each desired replica of a watched Deployment it starts a simulator (settings from the
 * Deployment's annotations, see {@link DeploymentSimulation}), creates its Pod on the node with the
 * fewest pods and its EndpointSlice, both not ready; when the simulator has loaded (what a
 * readiness probe on {@code /health} would see) both turn ready. Scaling down picks not-ready pods
 * first, then the newest, as a ReplicaSet does; it marks them terminating (Pod with a {@code
 * deletionTimestamp}, Ready false; endpoint ready false, terminating true) and, after the
 * termination delay, deletes Pod and EndpointSlice and stops the simulator. The Deployment's status
 * follows every change.
 *
 * <p>All work runs on one thread, in event order, so the bookkeeping needs no locks; informer
 * callbacks only enqueue.
 */
public final class SimulatedKubelet implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SimulatedKubelet.class);
  private static final long STOP_TIMEOUT_SECONDS = 30;
  private static final int MAX_STATUS_ATTEMPTS = 5;

  /** A replica as the kubelet tracks it (read through {@link #replicas}). */
  public record Replica(
      String namespace,
      String deployment,
      String podName,
      String nodeName,
      int port,
      boolean ready,
      boolean terminating,
      VllmSimulator simulator) {}

  private final KubernetesClient client;
  private final Vertx vertx;
  private final SimulatedKubeletConfig config;
  private final InstantSource clock;
  private final ScheduledExecutorService executor;
  private final Map<String, DeploymentState> deployments = new HashMap<>();
  private final Map<String, Integer> podsPerNode = new HashMap<>();
  private SharedIndexInformer<Deployment> informer;
  private volatile boolean closed;

  private static final class ReplicaState {
    final String podName;
    final String nodeName;
    final VllmSimulator simulator;
    final DeploymentSimulation settings;
    final Instant createdAt;
    final int ordinal;
    Instant readyAt;
    boolean loaded;
    boolean terminating;
    Instant terminatingSince;

    ReplicaState(
        String podName,
        String nodeName,
        VllmSimulator simulator,
        DeploymentSimulation settings,
        Instant createdAt,
        int ordinal) {
      this.podName = podName;
      this.nodeName = nodeName;
      this.simulator = simulator;
      this.settings = settings;
      this.createdAt = createdAt;
      this.ordinal = ordinal;
    }

    SimulatedObjects.ReplicaView view() {
      return new SimulatedObjects.ReplicaView(
          podName,
          nodeName,
          simulator.port(),
          loaded,
          terminating,
          createdAt,
          readyAt,
          terminatingSince,
          settings.terminationDelay().toSeconds());
    }
  }

  private static final class DeploymentState {
    Deployment latest;
    boolean deleted;
    int nextOrdinal;
    final List<ReplicaState> replicas = new ArrayList<>();
  }

  private SimulatedKubelet(
      KubernetesClient client, Vertx vertx, SimulatedKubeletConfig config, InstantSource clock) {
    this.client = Objects.requireNonNull(client, "client");
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.config = Objects.requireNonNull(config, "config").validate();
    this.clock = Objects.requireNonNull(clock, "clock");
    this.executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "simulated-kubelet");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Creates the node pool's Node objects and starts watching Deployments (in every namespace, those
   * matching {@code config.deploymentSelector()}). Simulators run on {@code vertx}.
   */
  public static SimulatedKubelet start(
      KubernetesClient client, Vertx vertx, SimulatedKubeletConfig config, InstantSource clock) {
    SimulatedKubelet kubelet = new SimulatedKubelet(client, vertx, config, clock);
    kubelet.startWatching();
    return kubelet;
  }

  private void startWatching() {
    Instant now = clock.instant();
    for (String node : config.nodeNames()) {
      client
          .nodes()
          .resource(SimulatedObjects.node(node, now))
          .createOr(NonDeletingOperation::update);
      podsPerNode.put(node, 0);
    }
    var deploymentsOp = client.apps().deployments().inAnyNamespace();
    var selected =
        config.deploymentSelector().isEmpty()
            ? deploymentsOp
            : deploymentsOp.withLabels(config.deploymentSelector());
    informer =
        selected.inform(
            new ResourceEventHandler<>() {
              @Override
              public void onAdd(Deployment d) {
                submit(() -> reconcile(d));
              }

              @Override
              public void onUpdate(Deployment old, Deployment d) {
                submit(() -> reconcile(d));
              }

              @Override
              public void onDelete(Deployment d, boolean finalStateUnknown) {
                submit(() -> deleted(d));
              }
            },
            0);
  }

  /** Replicas of a Deployment as the kubelet sees them now, oldest first. */
  public List<Replica> replicas(String namespace, String deployment) {
    return call(
        () -> {
          DeploymentState s = deployments.get(key(namespace, deployment));
          if (s == null) {
            return List.of();
          }
          return s.replicas.stream()
              .map(
                  r ->
                      new Replica(
                          namespace,
                          deployment,
                          r.podName,
                          r.nodeName,
                          r.simulator.port(),
                          r.loaded && !r.terminating,
                          r.terminating,
                          r.simulator))
              .toList();
        });
  }

  private void submit(Runnable work) {
    if (closed) {
      return;
    }
    executor.execute(
        () -> {
          try {
            work.run();
          } catch (RuntimeException e) {
            log.warn("simulated kubelet: {}", e.toString(), e);
          }
        });
  }

  private <T> T call(Callable<T> work) {
    try {
      return executor.submit(work).get(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("simulated kubelet did not answer", e);
    }
  }

  private static String key(String namespace, String name) {
    return namespace + "/" + name;
  }

  private void reconcile(Deployment d) {
    String key = key(d.getMetadata().getNamespace(), d.getMetadata().getName());
    DeploymentState state = deployments.computeIfAbsent(key, k -> new DeploymentState());
    state.latest = d;
    state.deleted = false;
    int desired =
        d.getSpec() == null || d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
    List<ReplicaState> active = state.replicas.stream().filter(r -> !r.terminating).toList();
    for (int i = active.size(); i < desired; i++) {
      startReplica(state);
    }
    if (active.size() > desired) {
      // A ReplicaSet removes not-ready pods first, then the newest.
      active.stream()
          .sorted(Comparator.comparing((ReplicaState r) -> r.loaded).thenComparing(r -> -r.ordinal))
          .limit(active.size() - desired)
          .forEach(r -> terminate(state, r));
    }
    writeStatus(state);
  }

  private void deleted(Deployment d) {
    DeploymentState state =
        deployments.get(key(d.getMetadata().getNamespace(), d.getMetadata().getName()));
    if (state == null) {
      return;
    }
    state.deleted = true;
    state.replicas.stream().filter(r -> !r.terminating).toList().forEach(r -> terminate(state, r));
  }

  private void startReplica(DeploymentState state) {
    Deployment d = state.latest;
    DeploymentSimulation settings = DeploymentSimulation.of(d, config);
    if (!settings.problems().isEmpty()) {
      log.warn(
          "Deployment {}/{}: unreadable annotations, defaults used: {}",
          d.getMetadata().getNamespace(),
          d.getMetadata().getName(),
          settings.problems());
    }
    int ordinal = state.nextOrdinal++;
    String node =
        podsPerNode.entrySet().stream()
            .min(
                Map.Entry.<String, Integer>comparingByValue()
                    .thenComparing(Map.Entry.comparingByKey()))
            .orElseThrow()
            .getKey();
    podsPerNode.merge(node, 1, Integer::sum);
    VllmSimulator sim = VllmSimulator.start(vertx, settings.simulator());
    ReplicaState r =
        new ReplicaState(
            d.getMetadata().getName() + "-sim-" + ordinal,
            node,
            sim,
            settings,
            clock.instant(),
            ordinal);
    state.replicas.add(r);
    writeReplica(state, r);
    sim.loaded().thenRun(() -> submit(() -> markLoaded(state, r)));
  }

  private void markLoaded(DeploymentState state, ReplicaState r) {
    if (!state.replicas.contains(r) || r.terminating) {
      return; // a pod scaled away while loading never turns ready
    }
    r.loaded = true;
    r.readyAt = clock.instant();
    writeReplica(state, r);
    writeStatus(state);
  }

  private void terminate(DeploymentState state, ReplicaState r) {
    r.terminating = true;
    r.terminatingSince = clock.instant();
    writeReplica(state, r);
    Duration delay = r.settings.terminationDelay();
    executor.schedule(() -> submit(() -> remove(state, r)), delay.toNanos(), TimeUnit.NANOSECONDS);
  }

  private void remove(DeploymentState state, ReplicaState r) {
    String ns = state.latest.getMetadata().getNamespace();
    var pod = client.pods().inNamespace(ns).withName(r.podName);
    // Releasing the finalizer completes the graceful deletion the scale-down started.
    if (pod.get() != null) {
      pod.edit(
          p -> {
            p.getMetadata().setFinalizers(List.of());
            return p;
          });
      pod.delete();
    }
    client.discovery().v1().endpointSlices().inNamespace(ns).withName(r.podName).delete();
    r.simulator.close();
    podsPerNode.merge(r.nodeName, -1, Integer::sum);
    state.replicas.remove(r);
    writeStatus(state);
  }

  private void writeReplica(DeploymentState state, ReplicaState r) {
    Deployment d = state.latest;
    String ns = d.getMetadata().getNamespace();
    var pod = SimulatedObjects.pod(d, r.view());
    var pods = client.pods().inNamespace(ns);
    if (r.terminating) {
      // A graceful deletion: the finalizer keeps the pod, now with a deletionTimestamp.
      pods.withName(r.podName).withGracePeriod(r.settings.terminationDelay().toSeconds()).delete();
    } else {
      pods.resource(pod).createOr(NonDeletingOperation::update);
    }
    pods.withName(r.podName)
        .editStatus(
            p -> {
              p.setStatus(pod.getStatus());
              return p;
            });
    client
        .discovery()
        .v1()
        .endpointSlices()
        .inNamespace(ns)
        .resource(SimulatedObjects.endpointSlice(d, r.settings.serviceName(), r.view()))
        .createOr(NonDeletingOperation::update);
  }

  private void writeStatus(DeploymentState state) {
    if (state.deleted) {
      return;
    }
    Deployment d = state.latest;
    int active = (int) state.replicas.stream().filter(r -> !r.terminating).count();
    int ready = (int) state.replicas.stream().filter(r -> !r.terminating && r.loaded).count();
    int terminating = state.replicas.size() - active;
    DeploymentStatus status =
        SimulatedObjects.deploymentStatus(
            d.getMetadata().getGeneration(), active, ready, terminating);
    if (status.equals(d.getStatus())) {
      return; // unchanged: writing would only echo back as another event
    }
    // The Deployment may change between our read and the write (a scale, another status write):
    // the API server then answers 409, and the status is written again over the fresh object.
    for (int attempt = 1; ; attempt++) {
      try {
        state.latest =
            client
                .apps()
                .deployments()
                .inNamespace(d.getMetadata().getNamespace())
                .withName(d.getMetadata().getName())
                .editStatus(
                    current -> {
                      current.setStatus(status);
                      return current;
                    });
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404) {
          return;
        }
        if (e.getCode() != 409 || attempt >= MAX_STATUS_ATTEMPTS) {
          throw e;
        }
      }
    }
  }

  /** Stops watching, stops every simulator and deletes nothing (the API server may be gone). */
  @Override
  public void close() {
    closed = true;
    if (informer != null) {
      informer.close();
    }
    try {
      executor
          .submit(
              () -> {
                deployments.values().forEach(s -> s.replicas.forEach(r -> r.simulator.close()));
                deployments.clear();
              })
          .get(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.warn("simulated kubelet did not stop cleanly", e);
    } finally {
      executor.shutdownNow();
    }
  }
}
