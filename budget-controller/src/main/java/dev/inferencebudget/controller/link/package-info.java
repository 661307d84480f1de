/**
 * The controller's end of the gRPC API between ext-proc replicas and the controller ({@code
 * proto/src/main/proto/ibc/v1/controller.proto}): it streams model states to every ext-proc
 * replica, aggregates their load reports, and hands activations to the reconciler.
 *
 * <p>The service converts protos to plain values at this edge; what it aggregates and publishes is
 * read by the reconciler through {@link dev.inferencebudget.controller.link.LoadAggregator} and
 * written through {@link dev.inferencebudget.controller.link.ModelStatePublisher}.
 */
package dev.inferencebudget.controller.link;
