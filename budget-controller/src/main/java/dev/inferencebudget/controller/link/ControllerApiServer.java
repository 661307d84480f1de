package dev.inferencebudget.controller.link;

import dev.inferencebudget.proto.v1.BudgetControllerGrpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/** Serves {@link ControllerApiService} and the standard gRPC health service on one port. */
public final class ControllerApiServer implements AutoCloseable {

  private final Server server;
  private final HealthStatusManager health;

  private ControllerApiServer(Server server, HealthStatusManager health) {
    this.server = server;
    this.health = health;
  }

  /** Starts listening in plaintext on {@code address} (port 0 picks a free port). */
  public static ControllerApiServer start(InetSocketAddress address, ControllerApiService service)
      throws IOException {
    return start(address, service, InsecureServerCredentials.create());
  }

  /** Starts listening on {@code address} with the given credentials (TLS). */
  public static ControllerApiServer start(
      InetSocketAddress address, ControllerApiService service, ServerCredentials credentials)
      throws IOException {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(credentials, "credentials");
    HealthStatusManager health = new HealthStatusManager();
    Server server =
        NettyServerBuilder.forAddress(address, credentials)
            .addService(service)
            .addService(health.getHealthService())
            // ext-proc replicas keep their streams open for days; keep them alive through idle
            // NATs.
            .permitKeepAliveTime(10, TimeUnit.SECONDS)
            .permitKeepAliveWithoutCalls(true)
            .build()
            .start();
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus(BudgetControllerGrpc.SERVICE_NAME, ServingStatus.SERVING);
    return new ControllerApiServer(server, health);
  }

  public int port() {
    return server.getPort();
  }

  @Override
  public void close() throws InterruptedException {
    health.enterTerminalState();
    server.shutdown();
    if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
      server.shutdownNow();
    }
  }
}
