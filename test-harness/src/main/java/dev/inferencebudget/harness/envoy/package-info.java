/**
 * A stand-in for Envoy with the ext_proc HTTP filter ({@code envoy.filters.http.ext_proc}), for
 * tests and the sandbox where no Envoy binary can be installed.
 *
 * <p>It is a real network component: an HTTP/1.1 listener on loopback, one ext_proc gRPC stream per
 * request, a route table matched on headers, clusters with static endpoints or an ORIGINAL_DST
 * cluster, and upstream requests over HTTP/1.1. Its behaviour follows {@code
 * specs/envoy-ext-proc.md} rule by rule; comments cite the rule numbers ("rule 13") so each
 * behaviour can be checked against the spec and, through it, against Envoy's source.
 *
 * <p>Entry point: {@link dev.inferencebudget.harness.envoy.EnvoyStandIn#start}. Routes and clusters
 * are updatable at runtime through {@link dev.inferencebudget.harness.envoy.RouteTable} and {@link
 * dev.inferencebudget.harness.envoy.ClusterManager}, so an xDS client can feed them as Envoy's ADS
 * would.
 */
package dev.inferencebudget.harness.envoy;
