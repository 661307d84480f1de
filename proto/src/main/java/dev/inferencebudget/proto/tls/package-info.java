/**
 * TLS for the project's gRPC connections (xDS, the ext-proc ⇄ controller link API, ext_proc), read
 * from a mounted {@code kubernetes.io/tls} Secret directory named by {@code IBC_TLS_DIR} and
 * re-read periodically, so renewed certificates take effect without a restart. Shared by the
 * controller and ext-proc, which both depend on this module and on nothing of each other.
 */
package dev.inferencebudget.proto.tls;
