/**
 * What the GPUs really hold, observed off the decision path: the vLLM {@code /metrics} of ready
 * replicas, scraped on a slow period, compared by the reconciler with what each replica reserved.
 * Observations never feed the decision core (the budget is kept on reservations, which are known
 * before a pod exists); they are reported in status and metrics, and a replica above its
 * reservation is flagged.
 */
package dev.inferencebudget.controller.observe;
