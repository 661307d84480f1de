/**
 * Workload replay: replays a request trace against the running system (the sandbox or any OpenAI
 * base URL) at a chosen speed-up, split across models as the fleet simulator splits it, and reports
 * what users saw (latency with and without cold starts, refusals by reason) and what the fleet cost
 * (GPU-memory-hours against always-on, cold starts), measured by watching the cluster.
 *
 * <p>Time has two scales here. <em>Trace time</em> is the stretched trace (the same as the fleet
 * simulator's virtual time); <em>wall time</em> is trace time divided by the speed-up. Every timing
 * of the scenario (load times, keep-alive and the adaptive histogram's buckets, hold timeout,
 * termination delay, scaling windows, token rates) is divided by the same factor, so a replay at
 * speed 60 is the trace-time scenario played sixty times faster, and figures are reported back in
 * trace time. {@link ReplayCommand} is the command-line entry point.
 */
package dev.inferencebudget.harness.replay;
