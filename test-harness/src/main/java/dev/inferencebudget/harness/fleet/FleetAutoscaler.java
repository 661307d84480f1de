package dev.inferencebudget.harness.fleet;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the simulated controller asks on every tick: given the observed state of every model of the
 * fleet, how many replicas should each have. The simulator applies the answer (starts and
 * terminates replicas) and does no scaling arithmetic of its own; the production implementation is
 * {@link DecisionCoreAutoscaler}, an adapter to the decision core. An instance belongs to one
 * simulation run (it may carry the decider's state from tick to tick).
 */
public interface FleetAutoscaler {
  /**
   * @param models the observed state of every model, indexed like the fleet's models
   * @param now the virtual time
   * @return one directive per model, same order
   */
  List<ScalingDirective> decide(List<ModelObservation> models, Instant now);

  /** Creates an autoscaler for one run of one policy over one fleet. */
  @FunctionalInterface
  interface Factory {
    FleetAutoscaler create(Fleet fleet, KeepAlivePolicy policy);
  }

  /**
   * The observed state of one model, as the controller would see it from informers and the ext-proc
   * load reports.
   *
   * @param replicasStarting replicas created and not ready yet
   * @param replicasReady replicas serving
   * @param replicasTerminating replicas told to stop that still hold their GPU memory
   * @param lastRequestTime the last request's arrival, if any yet
   * @param inFlight requests being served
   * @param queued requests waiting for a free slot of a ready replica
   * @param held requests held for a cold start (the model has no ready replica)
   * @param heldSince when the oldest held request arrived, if any is held
   * @param arrivals requests that arrived since the previous observation
   */
  record ModelObservation(
      int replicasStarting,
      int replicasReady,
      int replicasTerminating,
      Optional<Instant> lastRequestTime,
      int inFlight,
      int queued,
      int held,
      Optional<Instant> heldSince,
      long arrivals) {
    public ModelObservation {
      Objects.requireNonNull(lastRequestTime, "lastRequestTime");
      Objects.requireNonNull(heldSince, "heldSince");
    }

    /** Requests are held and nothing is starting for them: the proxy asks for an activation. */
    public boolean activationPending() {
      return held > 0 && replicasStarting + replicasReady == 0;
    }
  }

  /**
   * What to do with one model.
   *
   * @param desiredReplicas replicas the model should have (starting plus ready)
   * @param budgetBlocked the budget refused this model a scale-up it asked for; held requests are
   *     refused
   * @param reason why, for the record
   */
  record ScalingDirective(int desiredReplicas, boolean budgetBlocked, String reason) {
    public ScalingDirective {
      if (desiredReplicas < 0) {
        throw new IllegalArgumentException(
            "desiredReplicas = " + desiredReplicas + ", must be >= 0");
      }
    }
  }
}
