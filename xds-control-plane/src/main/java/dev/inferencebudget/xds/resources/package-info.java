/**
 * Pure builders of the Envoy resources the control plane serves: a Cluster and a
 * ClusterLoadAssignment per model, the RouteConfiguration that routes on the routing header, the
 * standalone Listener, and gRPC-style api_listener Listeners. No gRPC, no state, no I/O.
 */
package dev.inferencebudget.xds.resources;
