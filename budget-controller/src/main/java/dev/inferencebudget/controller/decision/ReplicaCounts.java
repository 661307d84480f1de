package dev.inferencebudget.controller.decision;

/**
 * What the shell observed of a model's pods. Every pod counted here holds its GPU memory: starting
 * ones from the moment they are scheduled, terminating ones until they are gone.
 *
 * @param desired the replica count currently set on the workload (Deployment {@code
 *     spec.replicas}); pods not yet created for it are counted as reserved
 * @param starting pods that exist and are not ready
 * @param ready pods that are ready
 * @param terminating pods being deleted that may still hold their GPU
 */
public record ReplicaCounts(int desired, int starting, int ready, int terminating) {

  public static final ReplicaCounts NONE = new ReplicaCounts(0, 0, 0, 0);

  public ReplicaCounts {
    if (desired < 0 || starting < 0 || ready < 0 || terminating < 0) {
      throw new IllegalArgumentException(
          "replica counts must be >= 0: desired="
              + desired
              + " starting="
              + starting
              + " ready="
              + ready
              + " terminating="
              + terminating);
    }
  }

  /** Pods that exist and are not being deleted. */
  public int live() {
    return starting + ready;
  }

  /** Pods that hold GPU memory now. */
  public int holding() {
    return starting + ready + terminating;
  }
}
