package dev.inferencebudget.harness.fleet;

import dev.inferencebudget.controller.decision.BudgetSpec;
import dev.inferencebudget.controller.decision.Decider;
import dev.inferencebudget.controller.decision.DeciderState;
import dev.inferencebudget.controller.decision.Decision;
import dev.inferencebudget.controller.decision.FleetState;
import dev.inferencebudget.controller.decision.LoadSample;
import dev.inferencebudget.controller.decision.ModelDecision;
import dev.inferencebudget.controller.decision.ModelSpec;
import dev.inferencebudget.controller.decision.PendingActivation;
import dev.inferencebudget.controller.decision.ReplicaCounts;
import dev.inferencebudget.controller.decision.ScalingSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The simulator's adapter to the decision core ({@code dev.inferencebudget.controller.decision}):
 * converts the simulated fleet into the core's specs and observations, calls {@link Decider#decide}
 * with the state carried from the previous tick, and returns the core's desired replicas unchanged.
 * All scaling, keep-alive and budget arithmetic is the core's; this class only translates, like the
 * Kubernetes reconciler.
 *
 * <p>How the policies map onto a BudgetedModel: always-on is {@code replicas.min = 1} (with a fixed
 * keep-alive that never matters); fixed is {@code scaleToZero.idleTimeout}; adaptive is the core's
 * {@link dev.inferencebudget.controller.decision.KeepAlivePolicy.Adaptive} with the paper's
 * defaults and a fallback timeout. Load targets: one replica should carry {@code maxConcurrency}
 * requests in flight and as many waiting.
 */
public final class DecisionCoreAutoscaler implements FleetAutoscaler {
  private static final String NAMESPACE = "fleet-sim/";

  private final Decider decider = new Decider();
  private final String budgetKey;
  private final List<BudgetSpec> budgets;
  private final List<ModelSpec> specs;
  private DeciderState state = DeciderState.empty();
  private Decision lastDecision;

  public DecisionCoreAutoscaler(Fleet fleet, KeepAlivePolicy policy, Duration adaptiveFallback) {
    Objects.requireNonNull(fleet, "fleet");
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(adaptiveFallback, "adaptiveFallback");
    this.budgetKey = NAMESPACE + fleet.budgetName();
    this.budgets =
        List.of(
            new BudgetSpec(
                budgetKey,
                fleet.budgetGpuMemoryBytes(),
                100,
                0,
                fleet.preemptIdleLowerPriority()
                    ? BudgetSpec.Preemption.IDLE_LOWER_PRIORITY
                    : BudgetSpec.Preemption.NEVER));
    List<ModelSpec> models = new ArrayList<>();
    for (ModelProfile profile : fleet.models()) {
      models.add(spec(profile, policy, adaptiveFallback));
    }
    this.specs = List.copyOf(models);
  }

  /** Makes one adapter per run. */
  public static FleetAutoscaler.Factory factory(Duration adaptiveFallback) {
    return (fleet, policy) -> new DecisionCoreAutoscaler(fleet, policy, adaptiveFallback);
  }

  private ModelSpec spec(ModelProfile profile, KeepAlivePolicy policy, Duration adaptiveFallback) {
    int min = policy instanceof KeepAlivePolicy.AlwaysOn ? 1 : 0;
    dev.inferencebudget.controller.decision.KeepAlivePolicy keepAlive;
    if (policy instanceof KeepAlivePolicy.Fixed fixed) {
      keepAlive =
          new dev.inferencebudget.controller.decision.KeepAlivePolicy.Fixed(fixed.idleTimeout());
    } else if (policy instanceof KeepAlivePolicy.Adaptive) {
      keepAlive =
          dev.inferencebudget.controller.decision.KeepAlivePolicy.Adaptive.defaults(
              adaptiveFallback);
    } else {
      // always-on: the floor of 1 keeps the replica; the timeout only matters above the floor
      keepAlive =
          new dev.inferencebudget.controller.decision.KeepAlivePolicy.Fixed(adaptiveFallback);
    }
    ScalingSpec scaling =
        ScalingSpec.defaults().withTargets(profile.maxConcurrency(), profile.maxConcurrency());
    return new ModelSpec(
        NAMESPACE + profile.name(),
        budgetKey,
        profile.gpuMemoryPerReplicaBytes(),
        profile.priority(),
        min,
        profile.maxReplicas(),
        keepAlive,
        scaling,
        List.of());
  }

  @Override
  public List<ScalingDirective> decide(List<ModelObservation> models, Instant now) {
    if (models.size() != specs.size()) {
      throw new IllegalArgumentException(
          "expected " + specs.size() + " observations, got " + models.size());
    }
    List<dev.inferencebudget.controller.decision.ModelObservation> observations =
        new ArrayList<>(models.size());
    for (int i = 0; i < models.size(); i++) {
      observations.add(observation(specs.get(i).key(), models.get(i), now));
    }
    Decision decision = decider.decide(new FleetState(budgets, specs, observations), state, now);
    state = decision.nextState();
    lastDecision = decision;
    List<ScalingDirective> directives = new ArrayList<>(models.size());
    for (ModelSpec spec : specs) {
      ModelDecision d = decision.model(spec.key());
      directives.add(
          new ScalingDirective(
              d.desiredReplicas(),
              d.refusal().isPresent(),
              d.refusal().map(r -> r.message()).orElse(d.state().statusName())));
    }
    return directives;
  }

  /** The last decision, for tests that look behind the directives. */
  Optional<Decision> lastDecision() {
    return Optional.ofNullable(lastDecision);
  }

  private static dev.inferencebudget.controller.decision.ModelObservation observation(
      String key, ModelObservation observed, Instant now) {
    int live = observed.replicasStarting() + observed.replicasReady();
    // The simulated Deployment's spec.replicas is applied at once, so "desired on the workload"
    // equals live pods.
    var observation =
        dev.inferencebudget.controller.decision.ModelObservation.of(
                key,
                new ReplicaCounts(
                    live,
                    observed.replicasStarting(),
                    observed.replicasReady(),
                    observed.replicasTerminating()))
            .withLoad(
                new LoadSample(
                    now,
                    observed.inFlight(),
                    observed.queued(),
                    observed.held(),
                    observed.arrivals(),
                    Optional.empty()));
    if (observed.lastRequestTime().isPresent()) {
      observation = observation.withLastRequestTime(observed.lastRequestTime().get());
    }
    if (observed.held() > 0 && observed.heldSince().isPresent()) {
      observation =
          observation.withPendingActivation(
              new PendingActivation(observed.held(), observed.heldSince().get()));
    }
    return observation;
  }
}
