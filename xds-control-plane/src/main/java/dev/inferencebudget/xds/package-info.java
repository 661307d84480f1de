/**
 * Turns model states into Envoy resources (clusters, endpoints, routes) and serves them over ADS.
 */
package dev.inferencebudget.xds;
