package dev.inferencebudget.harness.e2e;

import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.ModelState;
import dev.inferencebudget.harness.cluster.DeploymentSimulation;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One tenant's namespace in the shared system: its InferenceBudget and its models (a BudgetedModel
 * and the vLLM Deployment it scales, at zero replicas), written as a user would with kubectl. Each
 * scenario uses its own namespace, so scenarios sharing one system do not share a budget.
 */
final class Tenant {

  /**
   * A model to create.
   *
   * @param name the BudgetedModel and Deployment name
   * @param modelName the OpenAI {@code model} value (also the simulator's served name); unique in
   *     the whole system
   * @param gpuMemoryPerReplica a quantity, e.g. {@code 24Gi}
   * @param priority 0..1000
   * @param idleTimeout a Go duration, e.g. {@code 10m}
   * @param loadTime the simulated model's load time
   * @param admissionYaml extra {@code spec.admission} lines (indented by four spaces), or empty
   */
  record Model(
      String name,
      String modelName,
      String gpuMemoryPerReplica,
      int priority,
      String idleTimeout,
      Duration loadTime,
      String admissionYaml) {
    Model {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(modelName, "modelName");
      Objects.requireNonNull(gpuMemoryPerReplica, "gpuMemoryPerReplica");
      Objects.requireNonNull(idleTimeout, "idleTimeout");
      Objects.requireNonNull(loadTime, "loadTime");
      Objects.requireNonNull(admissionYaml, "admissionYaml");
    }

    static Model of(String name, String modelName, String gpuMemoryPerReplica) {
      return new Model(name, modelName, gpuMemoryPerReplica, 100, "10m", E2e.LOAD_TIME, "");
    }

    Model withPriority(int v) {
      return new Model(
          name, modelName, gpuMemoryPerReplica, v, idleTimeout, loadTime, admissionYaml);
    }

    Model withIdleTimeout(String v) {
      return new Model(name, modelName, gpuMemoryPerReplica, priority, v, loadTime, admissionYaml);
    }

    Model withLoadTime(Duration v) {
      return new Model(
          name, modelName, gpuMemoryPerReplica, priority, idleTimeout, v, admissionYaml);
    }

    Model withAdmission(String v) {
      return new Model(name, modelName, gpuMemoryPerReplica, priority, idleTimeout, loadTime, v);
    }
  }

  private final KubernetesClient client;
  private final String namespace;

  private Tenant(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  /** Creates the namespace and its budget. */
  static Tenant create(
      KubernetesClient client, String namespace, String gpuMemory, String preemption) {
    client
        .namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
        .create();
    client
        .resource(
            """
            apiVersion: inferencebudget.dev/v1alpha1
            kind: InferenceBudget
            metadata:
              name: gpu
              namespace: %s
            spec:
              gpuMemory: %s
              preemption: %s
            """
                .formatted(namespace, gpuMemory, preemption))
        .create();
    return new Tenant(client, namespace);
  }

  String namespace() {
    return namespace;
  }

  /** The budget's name inside the namespace. */
  String budget() {
    return "gpu";
  }

  /** Creates the model's Deployment (zero replicas) and its BudgetedModel. */
  Tenant add(Model m) {
    client.resource(deployment(m)).create();
    String admission = m.admissionYaml().isEmpty() ? "" : "  admission:\n" + m.admissionYaml();
    client
        .resource(
            """
            apiVersion: inferencebudget.dev/v1alpha1
            kind: BudgetedModel
            metadata:
              name: %s
              namespace: %s
            spec:
              modelNames: [%s]
              targetRef: {kind: Deployment, name: %s}
              budgetRef: {name: gpu}
              gpuMemoryPerReplica: %s
              priority: %d
              replicas: {min: 0, max: 1}
              scaleToZero: {idleTimeout: %s}
              coldStart: {holdTimeout: 30s, maxHeldRequests: 100}
            %s"""
                .formatted(
                    m.name(),
                    namespace,
                    m.modelName(),
                    m.name(),
                    m.gpuMemoryPerReplica(),
                    m.priority(),
                    m.idleTimeout(),
                    admission))
        .create();
    return this;
  }

  private Deployment deployment(Model m) {
    return new DeploymentBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(m.name())
        .withAnnotations(
            Map.of(
                DeploymentSimulation.SERVED_MODEL_NAMES,
                m.modelName(),
                DeploymentSimulation.LOAD_TIME,
                m.loadTime().toMillis() + "ms",
                // fast generations: the scenarios measure the system, not the model
                DeploymentSimulation.DECODE_TOKENS_PER_SECOND,
                "1000",
                DeploymentSimulation.PREFILL_TOKENS_PER_SECOND,
                "100000"))
        .endMetadata()
        .withNewSpec()
        .withReplicas(0)
        .withNewSelector()
        .withMatchLabels(Map.of("app", m.name()))
        .endSelector()
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(Map.of("app", m.name()))
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("vllm")
        .withImage("vllm/vllm-openai")
        .addNewPort()
        .withName("http")
        .withContainerPort(8000)
        .endPort()
        .endContainer()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  /** The Deployment's {@code spec.replicas}. */
  int replicas(String name) {
    Deployment d = client.apps().deployments().inNamespace(namespace).withName(name).get();
    return d == null || d.getSpec().getReplicas() == null ? 0 : d.getSpec().getReplicas();
  }

  /** Pods of the model's Deployment that exist (including terminating ones, which hold GPU). */
  int pods(String name) {
    return client.pods().inNamespace(namespace).withLabel("app", name).list().getItems().size();
  }

  Optional<ModelState> state(String name) {
    BudgetedModel m =
        client.resources(BudgetedModel.class).inNamespace(namespace).withName(name).get();
    return m == null || m.getStatus() == null
        ? Optional.empty()
        : Optional.ofNullable(m.getStatus().state());
  }
}
