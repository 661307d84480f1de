package dev.inferencebudget.harness.replay;

import dev.inferencebudget.harness.fleet.DecisionCoreAutoscaler;
import dev.inferencebudget.harness.fleet.FleetSimulation;
import dev.inferencebudget.harness.fleet.KeepAlivePolicy;
import dev.inferencebudget.harness.fleet.PolicyResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Runs the fleet simulator (virtual time, the real decision core) on exactly the replay's window:
 * the same requests, dealt to the same models, with the same settings, once for the replayed policy
 * and once for always-on. The adaptive policy runs unscaled, in virtual trace time (one-minute
 * buckets over four hours, {@link ReplayScenario#adaptiveKeepAlive()}), while the sandbox runs it
 * scaled to wall time. This is {@code scripts/fleet-sim} restricted to a window, which the script
 * itself cannot do.
 */
public final class WindowSimulation {
  private WindowSimulation() {}

  /** The replayed policy's result, then always-on's (once when the policy is always-on). */
  public static List<PolicyResult> run(ReplayScenario scenario, ReplayPlan plan) {
    Objects.requireNonNull(scenario, "scenario");
    Objects.requireNonNull(plan, "plan");
    List<KeepAlivePolicy> policies = new ArrayList<>();
    policies.add(scenario.policy());
    if (!(scenario.policy() instanceof KeepAlivePolicy.AlwaysOn)) {
      policies.add(new KeepAlivePolicy.AlwaysOn());
    }
    List<PolicyResult> results = new ArrayList<>();
    for (KeepAlivePolicy policy : policies) {
      FleetSimulation simulation =
          new FleetSimulation(
              scenario.fleet(),
              scenario.settings(),
              plan.windowTrace(),
              plan.windowAssignment(),
              new DecisionCoreAutoscaler(scenario.fleet(), policy, scenario.adaptiveFallback()),
              policy.label());
      results.add(simulation.run(resolved -> {}));
    }
    return List.copyOf(results);
  }
}
