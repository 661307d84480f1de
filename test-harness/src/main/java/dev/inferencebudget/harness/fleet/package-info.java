/**
 * The fleet simulator: replays a request trace in virtual time through the project's decision core
 * (the same code the controller runs), with a model of replica cold starts, GPU-memory
 * reservations, queueing and service, and reports what each keep-alive policy costs in
 * GPU-memory-hours and in added wait.
 *
 * <p>The simulator is the second shell around the decision core: {@link FleetSimulation} is a
 * discrete-event loop that observes simulated replicas, asks a {@link FleetAutoscaler} what to do
 * and applies the answer, as the Kubernetes reconciler does with real Deployments. {@link
 * FleetSimCommand} is the command-line entry point.
 */
package dev.inferencebudget.harness.fleet;
