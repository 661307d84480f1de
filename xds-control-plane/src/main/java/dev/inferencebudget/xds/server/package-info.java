/**
 * The xDS machinery: a java-control-plane {@code ConfigWatcher} that versions every resource on its
 * own and sends a client only the resources that changed, the per-stream ACK/NACK bookkeeping, the
 * routability tracker built on it, and the gRPC server wiring.
 */
package dev.inferencebudget.xds.server;
