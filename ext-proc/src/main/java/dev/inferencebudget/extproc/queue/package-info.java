/**
 * Concurrency per model: slots up to ready replicas × target in-flight per replica, then a bounded
 * queue ordered by priority and, within a priority, fair across tenants by tokens served (the
 * Virtual Token Counter of Sheng et al., "Fairness in Serving Large Language Models", OSDI 2024).
 * In endpoint-picker mode a slot also names the least-loaded ready endpoint.
 */
package dev.inferencebudget.extproc.queue;
