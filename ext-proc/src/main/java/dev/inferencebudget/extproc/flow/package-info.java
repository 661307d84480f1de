/**
 * One HTTP request's way through admission, free of gRPC: parse, find the model, bound and count
 * tokens, charge the tenant, hold while the model is cold, queue while it is saturated, route, and
 * settle with the response's usage. The {@code grpc} package turns Envoy messages into calls here
 * and the outcomes into Envoy responses.
 */
package dev.inferencebudget.extproc.flow;
