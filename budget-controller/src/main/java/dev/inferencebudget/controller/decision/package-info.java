/**
 * The pure decision core: given budgets, model specs, observed replicas and load, the previous
 * {@link dev.inferencebudget.controller.decision.DeciderState} and {@code now}, {@link
 * dev.inferencebudget.controller.decision.Decider#decide} returns desired replicas, states,
 * GPU-memory reservations and the reason for each change.
 *
 * <p>JDK and records only: no I/O, no clock reads, no threads, no logging, no Kubernetes or gRPC
 * types (an ArchUnit test keeps it so). Two shells drive it: the controller (from informers, in
 * real time) and the fleet simulator (from a trace, in virtual time), so what the simulator
 * measures is what production runs.
 *
 * <p>Three layers, in increasing authority: idle ({@code IdleLayer}: keep-alive fixed or adaptive
 * after Shahrad et al. 2020, floors from {@code replicas.min} and schedules, activation from zero),
 * load ({@code LoadLayer}: Knative KPA-like stable and panic windows, scale-up rate, scale-down
 * delay; its javadoc names the differences from the KPA), and budget ({@code BudgetLayer}: priority
 * order, protection threshold, preemption of idle lower-priority models, never above the budget at
 * any instant). See {@code docs/decision-core.md}.
 */
package dev.inferencebudget.controller.decision;
