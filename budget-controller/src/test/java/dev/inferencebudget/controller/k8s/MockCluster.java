package dev.inferencebudget.controller.k8s;

import dev.inferencebudget.controller.api.v1alpha1.BudgetRef;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModelSpec;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudget;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudgetSpec;
import dev.inferencebudget.controller.api.v1alpha1.Preemption;
import dev.inferencebudget.controller.api.v1alpha1.Replicas;
import dev.inferencebudget.controller.api.v1alpha1.ScaleToZero;
import dev.inferencebudget.controller.api.v1alpha1.TargetRef;
import dev.inferencebudget.controller.config.ControllerConfig;
import dev.inferencebudget.xds.api.XdsConfig;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;

/** Objects for the controller's integration tests on fabric8's CRUD mock server. */
final class MockCluster {

  private MockCluster() {}

  /**
   * A CRUD-mode mock API server on loopback, as {@code @EnableKubernetesMockClient(crud = true)}.
   */
  static KubernetesMockServer crudServer() {
    KubernetesMockServer server =
        new KubernetesMockServer(
            new io.fabric8.mockwebserver.Context(),
            new io.fabric8.mockwebserver.MockWebServer(),
            new java.util.HashMap<>(),
            new KubernetesCrudDispatcher(List.of()),
            false);
    try {
      server.init(java.net.InetAddress.getByName("127.0.0.1"), 0);
    } catch (java.net.UnknownHostException e) {
      throw new IllegalStateException(e);
    }
    return server;
  }

  /**
   * A test's own CRUD mock API server with a client and both CRDs registered (for tests that cannot
   * use the JUnit extension, e.g. because they restart or add controllers). {@link #close} closes
   * what the test handed to {@link #closeLater} in reverse order, then the client and the server.
   */
  static final class OwnServer implements AutoCloseable {
    private static final java.util.logging.Logger MOCK_SERVER_LOG =
        java.util.logging.Logger.getLogger(io.fabric8.mockwebserver.MockWebServer.class.getName());

    final KubernetesMockServer server;
    final KubernetesClient client;
    private final List<AutoCloseable> closing = new ArrayList<>();

    OwnServer() {
      server = crudServer();
      client = server.createClient();
      Awaitility.setDefaultTimeout(Duration.ofSeconds(40));
      MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
      registerCrds(client);
    }

    /** Closed by {@link #close}, after everything handed over later. */
    void closeLater(AutoCloseable resource) {
      closing.add(resource);
    }

    @Override
    public void close() throws Exception {
      for (int i = closing.size() - 1; i >= 0; i--) {
        closing.get(i).close();
      }
      client.close();
      destroyQuietly(server);
    }
  }

  /**
   * Stops the mock server. Its HTTP server gets 10 s to close; on a machine with ten runnable
   * processes per core it sometimes takes longer, which says nothing about the behaviour under
   * test, so that one failure is logged, not thrown.
   */
  static void destroyQuietly(KubernetesMockServer server) {
    try {
      server.destroy();
    } catch (IllegalStateException e) {
      System.getLogger(MockCluster.class.getName())
          .log(System.Logger.Level.WARNING, "mock API server did not close in time: " + e);
    }
  }

  /** Registers both CRDs with a status subresource (so status and spec writes are separate). */
  static void registerCrds(KubernetesClient client) {
    for (Class<? extends CustomResource<?, ?>> type :
        List.<Class<? extends CustomResource<?, ?>>>of(
            InferenceBudget.class, BudgetedModel.class)) {
      String plural = HasMetadata.getPlural(type);
      String group = HasMetadata.getGroup(type);
      client
          .apiextensions()
          .v1()
          .customResourceDefinitions()
          .resource(
              new CustomResourceDefinitionBuilder()
                  .withNewMetadata()
                  .withName(plural + "." + group)
                  .endMetadata()
                  .withNewSpec()
                  .withGroup(group)
                  .withScope("Namespaced")
                  .withNewNames()
                  .withPlural(plural)
                  .withKind(HasMetadata.getKind(type))
                  .withSingular(HasMetadata.getSingular(type))
                  .endNames()
                  .addNewVersion()
                  .withName(HasMetadata.getVersion(type))
                  .withServed(true)
                  .withStorage(true)
                  .withNewSubresources()
                  .withNewStatus()
                  .endStatus()
                  .endSubresources()
                  .endVersion()
                  .endSpec()
                  .build())
          .create();
    }
  }

  /**
   * The common fixture: budget {@code gpu} (80Gi, no preemption), Deployment {@code llama} with
   * {@code replicas}, and BudgetedModel {@code llama} (llama-3-8b, 24Gi, priority 100) idling out
   * after {@code idleTimeout}.
   */
  static void createLlama(KubernetesClient client, String ns, int replicas, String idleTimeout) {
    client.resource(budget(ns, "gpu", "80Gi", Preemption.NEVER)).create();
    client.resource(deployment(ns, "llama", replicas)).create();
    client.resource(model(ns, "llama", "llama-3-8b", "gpu", "24Gi", 100, idleTimeout)).create();
  }

  static InferenceBudget budget(String ns, String name, String gpuMemory, Preemption preemption) {
    InferenceBudget b = new InferenceBudget();
    b.getMetadata().setNamespace(ns);
    b.getMetadata().setName(name);
    b.setSpec(new InferenceBudgetSpec(new Quantity(gpuMemory), 100, 0, preemption));
    return b;
  }

  static BudgetedModel model(
      String ns,
      String name,
      String modelName,
      String budget,
      String perReplica,
      int priority,
      String idleTimeout) {
    BudgetedModel m = new BudgetedModel();
    m.getMetadata().setNamespace(ns);
    m.getMetadata().setName(name);
    m.setSpec(
        new BudgetedModelSpec(
            List.of(modelName),
            new TargetRef(null, name),
            new BudgetRef(budget),
            new Quantity(perReplica),
            priority,
            new Replicas(0, 2),
            new ScaleToZero(idleTimeout, null),
            null,
            null,
            null,
            null,
            false,
            null));
    return m;
  }

  static Deployment deployment(String ns, String name, int replicas) {
    return new DeploymentBuilder()
        .withNewMetadata()
        .withNamespace(ns)
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withReplicas(replicas)
        .withNewSelector()
        .withMatchLabels(Map.of("app", name))
        .endSelector()
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(Map.of("app", name))
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("vllm")
        .withImage("vllm/vllm-openai")
        .endContainer()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  /** Fast cycles on loopback, without a Lease unless asked. */
  static ControllerConfig config(String identity, boolean leaderElection) {
    return config(identity, leaderElection, Duration.ZERO);
  }

  static ControllerConfig config(String identity, boolean leaderElection, Duration startupGrace) {
    ControllerConfig d = ControllerConfig.defaults();
    return d.withStartupGrace(startupGrace)
        .withPorts("127.0.0.1", 0, 0, 0)
        .withTiming(Duration.ofMillis(20), Duration.ofMillis(200))
        .withLeaderElection(
            d.leaderElection()
                .withIdentity(identity)
                .withEnabled(leaderElection)
                .withTimings(
                    Duration.ofSeconds(2), Duration.ofMillis(1500), Duration.ofMillis(200)));
  }

  static XdsConfig xdsConfig() {
    // Without Envoys connected, a ready endpoint is routable (as with Envoys on another replica).
    return XdsConfig.defaults()
        .withListenAddress("127.0.0.1", 0)
        .withWithoutEnvoys(XdsConfig.WithoutEnvoys.READY_ENDPOINT);
  }
}
