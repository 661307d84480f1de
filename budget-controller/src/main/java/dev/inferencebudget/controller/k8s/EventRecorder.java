package dev.inferencebudget.controller.k8s;

import io.fabric8.kubernetes.api.model.HasMetadata;

/** Records a Kubernetes Event about an object. Implementations deduplicate repeats. */
@FunctionalInterface
public interface EventRecorder {

  /**
   * Records that {@code reason} (CamelCase) happened to {@code regarding}, with a human message.
   */
  void record(HasMetadata regarding, boolean warning, String reason, String message);
}
