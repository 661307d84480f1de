package dev.inferencebudget.harness.replay;

import dev.inferencebudget.harness.fleet.ModelProfile;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Watches the replay's pods and measures what the fleet cost: GPU memory reserved over time (a pod
 * holds its model's {@code gpuMemoryPerReplica} from creation until it is gone, through loading and
 * termination, as the budget counts it), replica starts and cold starts (a start while the model
 * had no other pod starting or ready), and, for each arriving request, whether its model had a
 * ready replica (else the request waits for a cold start).
 *
 * <p>The pod events are timed when they arrive here, in wall time: the API server's timestamps have
 * one-second resolution, which at a speed-up of 60 is a minute of trace time. Thread-safe: events
 * arrive on the informer's thread, questions from the load generator's threads.
 */
public final class FleetMeter implements AutoCloseable {
  private final List<ModelProfile> models;
  private final Map<String, Integer> modelOfDeployment = new HashMap<>();
  private final LongSupplier nanoTime;
  private final Map<String, PodState> pods = new HashMap<>();
  private final long[] replicaStarts;
  private final long[] coldStarts;
  private SharedIndexInformer<Pod> informer;
  private long startedNanos = -1;
  private long lastNanos;
  private long reservedBytes;
  private long peakReservedBytes;
  private double byteNanos;

  /**
   * @param models the fleet's models (index = Zipf rank)
   * @param nanoTime the wall clock ({@code System::nanoTime} outside tests)
   */
  public FleetMeter(List<ModelProfile> models, LongSupplier nanoTime) {
    this.models = List.copyOf(Objects.requireNonNull(models, "models"));
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    for (int i = 0; i < this.models.size(); i++) {
      modelOfDeployment.put(ScenarioObjects.deploymentName(this.models.get(i)), i);
    }
    this.replicaStarts = new long[this.models.size()];
    this.coldStarts = new long[this.models.size()];
  }

  /** Watches the pods of {@code namespace} until closed; returns once the informer has synced. */
  public FleetMeter watch(KubernetesClient client, String namespace) {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(namespace, "namespace");
    informer =
        client
            .pods()
            .inNamespace(namespace)
            .withLabel(ScenarioObjects.PART_OF_LABEL, ScenarioObjects.PART_OF)
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(Pod pod) {
                    observe(pod, false);
                  }

                  @Override
                  public void onUpdate(Pod oldPod, Pod pod) {
                    observe(pod, false);
                  }

                  @Override
                  public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {
                    observe(pod, true);
                  }
                });
    return this;
  }

  /** Starts integrating reserved memory from now (pods seen before count from now on). */
  public synchronized void start() {
    startedNanos = nanoTime.getAsLong();
    lastNanos = startedNanos;
    byteNanos = 0;
    peakReservedBytes = reservedBytes;
  }

  /** Whether model {@code model} has a ready replica now. */
  public synchronized boolean hasReadyReplica(int model) {
    for (PodState pod : pods.values()) {
      if (pod.model == model && pod.ready && !pod.terminating) {
        return true;
      }
    }
    return false;
  }

  /** What was measured between {@link #start()} and now. */
  public synchronized Usage usage() {
    advance(nanoTime.getAsLong());
    return new Usage(
        byteNanos / 1e9 / 3600,
        lastNanos - startedNanos,
        replicaStarts.clone(),
        coldStarts.clone(),
        peakReservedBytes,
        reservedBytes);
  }

  /** Applies one pod event (package-private for tests that feed events without an informer). */
  synchronized void observe(Pod pod, boolean deleted) {
    String deployment =
        pod.getMetadata().getLabels() == null
            ? null
            : pod.getMetadata().getLabels().get(ScenarioObjects.POD_DEPLOYMENT_LABEL);
    Integer model = deployment == null ? null : modelOfDeployment.get(deployment);
    if (model == null) {
      return;
    }
    advance(nanoTime.getAsLong());
    String name = pod.getMetadata().getName();
    PodState previous = pods.get(name);
    if (deleted) {
      if (previous != null) {
        pods.remove(name);
        reservedBytes -= models.get(model).gpuMemoryPerReplicaBytes();
      }
      return;
    }
    boolean ready = isReady(pod);
    boolean terminating = pod.getMetadata().getDeletionTimestamp() != null;
    if (previous == null) {
      if (startedNanos >= 0) {
        replicaStarts[model]++;
        if (!hasLiveReplica(model)) {
          coldStarts[model]++;
        }
      }
      pods.put(name, new PodState(model, ready, terminating));
      reservedBytes += models.get(model).gpuMemoryPerReplicaBytes();
      peakReservedBytes = Math.max(peakReservedBytes, reservedBytes);
    } else {
      previous.ready = ready;
      previous.terminating = terminating;
    }
  }

  private boolean hasLiveReplica(int model) {
    for (PodState pod : pods.values()) {
      if (pod.model == model && !pod.terminating) {
        return true;
      }
    }
    return false;
  }

  private void advance(long nowNanos) {
    if (startedNanos < 0 || nowNanos <= lastNanos) {
      return;
    }
    byteNanos += (double) reservedBytes * (nowNanos - lastNanos);
    lastNanos = nowNanos;
  }

  private static boolean isReady(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
      return false;
    }
    for (PodCondition condition : pod.getStatus().getConditions()) {
      if ("Ready".equals(condition.getType())) {
        return "True".equals(condition.getStatus());
      }
    }
    return false;
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
  }

  private static final class PodState {
    final int model;
    boolean ready;
    boolean terminating;

    PodState(int model, boolean ready, boolean terminating) {
      this.model = model;
      this.ready = ready;
      this.terminating = terminating;
    }
  }

  /**
   * What the meter measured, in wall time.
   *
   * @param gpuMemoryByteHours reserved GPU memory integrated over the measured wall time
   * @param measuredNanos wall time measured
   * @param replicaStarts per model: pods created
   * @param coldStarts per model: pods created while the model had no other pod starting or ready
   * @param peakReservedBytes the most GPU memory reserved at once
   * @param reservedBytesAtEnd GPU memory still reserved when measured
   */
  public record Usage(
      double gpuMemoryByteHours,
      long measuredNanos,
      long[] replicaStarts,
      long[] coldStarts,
      long peakReservedBytes,
      long reservedBytesAtEnd) {
    public Usage {
      Objects.requireNonNull(replicaStarts, "replicaStarts");
      Objects.requireNonNull(coldStarts, "coldStarts");
    }

    public long totalColdStarts() {
      long total = 0;
      for (long c : coldStarts) {
        total += c;
      }
      return total;
    }

    public long totalReplicaStarts() {
      long total = 0;
      for (long c : replicaStarts) {
        total += c;
      }
      return total;
    }
  }
}
