package dev.inferencebudget.harness.cluster;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.List;

/**
 * fabric8's Kubernetes mock server in CRUD mode on loopback: a store with watches, not a cluster
 * (no controllers, no validation, no garbage collection; see deps.md for what works). Clients made
 * by {@link #newClient()} talk to it over HTTP.
 */
public final class EmbeddedApiServer implements AutoCloseable {
  /**
   * The mock server logs every request at INFO through java.util.logging; held here so the level
   * set on it is not lost to garbage collection.
   */
  private static final java.util.logging.Logger MOCK_SERVER_LOG =
      java.util.logging.Logger.getLogger(MockWebServer.class.getName());

  private final KubernetesMockServer server;
  private final KubernetesClient client;

  private EmbeddedApiServer(KubernetesMockServer server) {
    this.server = server;
    this.client = server.createClient();
  }

  /** Starts an empty API server on 127.0.0.1 on a free port. */
  public static EmbeddedApiServer start() {
    MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(List.of()),
            false);
    try {
      server.init(InetAddress.getByName("127.0.0.1"), 0);
    } catch (UnknownHostException e) {
      throw new IllegalStateException("loopback must resolve", e);
    }
    return new EmbeddedApiServer(server);
  }

  /** A client shared by whoever asks; closed with the server. */
  public KubernetesClient client() {
    return client;
  }

  /** A new client of its own (the caller closes it), e.g. one per simulated process. */
  public KubernetesClient newClient() {
    return server.createClient();
  }

  /** The server's URL, for a kubeconfig or {@code --server}. */
  public String url() {
    return server.url("/");
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }
}
