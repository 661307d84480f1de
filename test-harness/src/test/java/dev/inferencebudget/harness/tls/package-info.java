/** TLS of the gRPC ports ({@code IBC_TLS_DIR}) tested across the controller and ext-proc. */
package dev.inferencebudget.harness.tls;
