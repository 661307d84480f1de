/**
 * An ADS client that behaves like Envoy towards an xDS server: wildcard CDS (and optionally LDS),
 * EDS and RDS subscriptions derived from what it accepted, ACKs and NACKs with version_info,
 * response_nonce and error_detail. Tests and the Envoy stand-in read the accepted clusters,
 * endpoints, listeners and routes from it.
 */
package dev.inferencebudget.harness.xds;
