package dev.inferencebudget.controller.link;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * How a standby dials the leader's link API: with the process's own client credentials ({@code
 * GrpcTls.channelCredentials()}: the CA to trust and, for mutual TLS, the pod's key pair) and the
 * name to verify the leader's certificate against.
 *
 * <p>A standby finds the leader by its pod IP (the Lease names a pod, not a Service), but the
 * certificate names the controller Service's DNS names. Without {@code authority} the TLS handshake
 * checks the IP against the certificate's names and fails; with it, the handshake (and the {@code
 * :authority} header) use that name instead, while the TCP connection still goes to the pod IP.
 *
 * @param credentials plaintext, TLS or mutual TLS client credentials
 * @param authority the DNS name the leader's certificate covers, e.g. {@code
 *     ibc-controller.ibc-system.svc}; empty dials with the address itself
 */
public record PeerTransport(ChannelCredentials credentials, Optional<String> authority) {

  public PeerTransport {
    Objects.requireNonNull(credentials, "credentials");
    Objects.requireNonNull(authority, "authority");
    if (authority.isPresent() && authority.get().isBlank()) {
      throw new IllegalArgumentException("authority is blank");
    }
  }

  /** Plaintext, as between replicas without {@code IBC_TLS_DIR}. */
  public static PeerTransport plaintext() {
    return new PeerTransport(InsecureChannelCredentials.create(), Optional.empty());
  }

  /** A channel to the link API at {@code address}. */
  ManagedChannel dial(InetSocketAddress address) {
    NettyChannelBuilder builder = NettyChannelBuilder.forAddress(address, credentials);
    authority.ifPresent(builder::overrideAuthority);
    return builder.build();
  }
}
