/**
 * The gRPC shell: the {@code envoy.service.ext_proc.v3.ExternalProcessor} service, one stream state
 * machine per HTTP request following Envoy's message order, the single mapping of admission errors
 * to ImmediateResponses, and the server that hosts it with the metrics endpoint.
 */
package dev.inferencebudget.extproc.grpc;
