package dev.inferencebudget.harness.cluster;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The objects the simulated kubelet writes, built as values from what it knows (no I/O), so each
 * shape can be read and tested on its own.
 */
public final class SimulatedObjects {
  /** Label Kubernetes puts on a Service's EndpointSlices. */
  public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

  /** Label naming who manages an EndpointSlice. */
  public static final String MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";

  public static final String MANAGED_BY = "simulated-kubelet.inferencebudget.dev";

  /** Annotation on a simulated Pod: the loopback port of its vLLM simulator. */
  public static final String PORT_ANNOTATION = DeploymentSimulation.PREFIX + "port";

  /** Label on a simulated Pod and its EndpointSlice: the Deployment it belongs to. */
  public static final String DEPLOYMENT_LABEL = DeploymentSimulation.PREFIX + "deployment";

  /**
   * Finalizer the simulated kubelet holds on its pods: the mock API server, like a real one, keeps
   * a deleted object with finalizers (setting its {@code deletionTimestamp}) until they are
   * removed.
   */
  public static final String POD_FINALIZER = DeploymentSimulation.PREFIX + "kubelet";

  /** All simulated pods listen on loopback. */
  public static final String POD_IP = "127.0.0.1";

  /** Name of the container port (and EndpointSlice port) of the simulator. */
  public static final String PORT_NAME = "http";

  private SimulatedObjects() {}

  /** What the kubelet knows of one replica when it writes its objects. */
  record ReplicaView(
      String podName,
      String nodeName,
      int port,
      boolean loaded,
      boolean terminating,
      Instant createdAt,
      Instant readyAt,
      Instant terminatingSince,
      long terminationGraceSeconds) {}

  /**
   * The Pod of a replica: the Deployment's template labels and containers, the simulator's port as
   * the first container's port, owned by the Deployment (a real pod is owned by a ReplicaSet, which
   * the simulation skips), scheduled on its node, Running on 127.0.0.1, Ready once loaded and not
   * terminating. It carries {@link #POD_FINALIZER}, so deleting it (as a scale-down does) only sets
   * its {@code deletionTimestamp} until the kubelet has let it terminate, as a graceful deletion
   * does in a cluster.
   */
  public static Pod pod(Deployment deployment, ReplicaView r) {
    Map<String, String> labels = new HashMap<>();
    var template = deployment.getSpec().getTemplate();
    if (template != null
        && template.getMetadata() != null
        && template.getMetadata().getLabels() != null) {
      labels.putAll(template.getMetadata().getLabels());
    }
    labels.put(DEPLOYMENT_LABEL, deployment.getMetadata().getName());
    PodSpec templateSpec = template == null ? null : template.getSpec();
    PodSpecBuilder spec =
        templateSpec == null
            ? new PodSpecBuilder()
                .addToContainers(
                    new ContainerBuilder()
                        .withName("vllm")
                        .withImage("vllm/vllm-openai:simulated")
                        .build())
            : new PodSpecBuilder(templateSpec);
    PodSpec built = spec.withNodeName(r.nodeName()).build();
    built
        .getContainers()
        .get(0)
        .setPorts(
            List.of(
                new ContainerPortBuilder()
                    .withName(PORT_NAME)
                    .withContainerPort(r.port())
                    .withProtocol("TCP")
                    .build()));
    PodBuilder pod =
        new PodBuilder()
            .withNewMetadata()
            .withName(r.podName())
            .withNamespace(deployment.getMetadata().getNamespace())
            .withLabels(labels)
            .withAnnotations(Map.of(PORT_ANNOTATION, Integer.toString(r.port())))
            .withOwnerReferences(owner(deployment))
            .withFinalizers(POD_FINALIZER)
            .withCreationTimestamp(r.createdAt().toString())
            .endMetadata()
            .withSpec(built)
            .withStatus(podStatus(r));
    return pod.build();
  }

  /** Running on loopback; Ready (and ContainersReady) once loaded and until terminating. */
  public static PodStatus podStatus(ReplicaView r) {
    boolean ready = r.loaded() && !r.terminating();
    String readyChange =
        (r.terminating() ? r.terminatingSince() : r.loaded() ? r.readyAt() : r.createdAt())
            .toString();
    String created = r.createdAt().toString();
    return new PodStatusBuilder()
        .withPhase("Running")
        .withHostIP(POD_IP)
        .withPodIP(POD_IP)
        .addNewPodIP(POD_IP)
        .withStartTime(created)
        .withConditions(
            condition("PodScheduled", true, created),
            condition("Initialized", true, created),
            condition("ContainersReady", ready, readyChange),
            condition("Ready", ready, readyChange))
        .addNewContainerStatus()
        .withName("vllm")
        .withReady(ready)
        .withStarted(true)
        .withRestartCount(0)
        .withImage("vllm/vllm-openai:simulated")
        .withNewState()
        .withNewRunning(created)
        .endState()
        .endContainerStatus()
        .build();
  }

  private static PodCondition condition(String type, boolean status, String since) {
    return new PodConditionBuilder()
        .withType(type)
        .withStatus(status ? "True" : "False")
        .withLastTransitionTime(since)
        .build();
  }

  /**
   * The EndpointSlice of one replica. Every simulated pod listens on its own port of 127.0.0.1, and
   * a slice has one port list for all its endpoints, so each pod gets a slice of its own (as
   * Kubernetes does for pods whose named target port resolves differently); consumers select a
   * Service's slices by {@value #SERVICE_NAME_LABEL} and merge them, as they must anyway.
   * Conditions follow the EndpointSlice controller: ready = pod Ready and not terminating; serving
   * = the server answers (loaded), terminating or not; terminating = being deleted.
   */
  public static EndpointSlice endpointSlice(
      Deployment deployment, String serviceName, ReplicaView r) {
    String namespace = deployment.getMetadata().getNamespace();
    return new EndpointSliceBuilder()
        .withNewMetadata()
        .withName(r.podName())
        .withNamespace(namespace)
        .withLabels(
            Map.of(
                SERVICE_NAME_LABEL,
                serviceName,
                MANAGED_BY_LABEL,
                MANAGED_BY,
                DEPLOYMENT_LABEL,
                deployment.getMetadata().getName()))
        .withOwnerReferences(owner(deployment))
        .endMetadata()
        .withAddressType("IPv4")
        .addNewEndpoint()
        .withAddresses(POD_IP)
        .withNodeName(r.nodeName())
        .withNewConditions()
        .withReady(r.loaded() && !r.terminating())
        .withServing(r.loaded())
        .withTerminating(r.terminating())
        .endConditions()
        .withTargetRef(
            new ObjectReferenceBuilder()
                .withKind("Pod")
                .withNamespace(namespace)
                .withName(r.podName())
                .build())
        .endEndpoint()
        .addNewPort()
        .withName(PORT_NAME)
        .withPort(r.port())
        .withProtocol("TCP")
        .withAppProtocol("http")
        .endPort()
        .build();
  }

  /**
   * The Deployment's status: {@code replicas} counts pods not terminating (as Kubernetes does),
   * {@code terminatingReplicas} the rest; ready and available are the loaded, non-terminating ones.
   */
  public static DeploymentStatus deploymentStatus(
      Long generation, int activeReplicas, int readyReplicas, int terminatingReplicas) {
    return new DeploymentStatusBuilder()
        .withObservedGeneration(generation)
        .withReplicas(activeReplicas)
        .withUpdatedReplicas(activeReplicas)
        .withReadyReplicas(readyReplicas)
        .withAvailableReplicas(readyReplicas)
        .withUnavailableReplicas(activeReplicas - readyReplicas)
        .withTerminatingReplicas(terminatingReplicas)
        .build();
  }

  /** A schedulable node of the simulated pool, with eight GPUs. */
  public static Node node(String name, Instant createdAt) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .withLabels(
            Map.of(
                "kubernetes.io/hostname",
                name,
                "node.kubernetes.io/instance-type",
                "simulated-gpu"))
        .withCreationTimestamp(createdAt.toString())
        .endMetadata()
        .withNewStatus()
        .addNewCondition()
        .withType("Ready")
        .withStatus("True")
        .withLastTransitionTime(createdAt.toString())
        .endCondition()
        .addNewAddress()
        .withType("InternalIP")
        .withAddress(POD_IP)
        .endAddress()
        .withCapacity(Map.of("nvidia.com/gpu", new Quantity("8")))
        .withAllocatable(Map.of("nvidia.com/gpu", new Quantity("8")))
        .endStatus()
        .build();
  }

  private static OwnerReference owner(Deployment deployment) {
    return new OwnerReferenceBuilder()
        .withApiVersion("apps/v1")
        .withKind("Deployment")
        .withName(deployment.getMetadata().getName())
        .withUid(deployment.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(true)
        .build();
  }
}
