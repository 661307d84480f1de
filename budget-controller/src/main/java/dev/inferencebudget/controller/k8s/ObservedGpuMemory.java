package dev.inferencebudget.controller.k8s;

import java.util.List;

/**
 * What the ready replicas of one model were observed to use on their GPUs.
 *
 * @param bytes the sum over the replicas that reported
 * @param overReservation replicas using more than the model's {@code gpuMemoryPerReplica}, each as
 *     "pod uses X", empty when none
 */
record ObservedGpuMemory(long bytes, List<String> overReservation) {
  ObservedGpuMemory {
    overReservation = List.copyOf(overReservation);
  }
}
