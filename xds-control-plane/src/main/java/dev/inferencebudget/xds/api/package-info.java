/**
 * The contract of the xDS control plane: what the controller feeds it ({@link
 * dev.inferencebudget.xds.api.ModelEndpoints}), how it is configured ({@link
 * dev.inferencebudget.xds.api.XdsConfig}) and how routability changes are reported ({@link
 * dev.inferencebudget.xds.api.RoutabilityListener}). Plain values; no gRPC and no Envoy protos.
 */
package dev.inferencebudget.xds.api;
