package dev.inferencebudget.harness.sandbox;

import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudget;
import dev.inferencebudget.harness.cluster.DeploymentSimulation;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads manifests and adapts them to the simulated cluster, as values: no object is written here.
 *
 * <p>What the sandbox changes, and why:
 *
 * <ul>
 *   <li>a BudgetedModel's target Deployment gets the simulator annotations: served model names =
 *       the model's {@code modelNames} (vLLM's {@code --served-model-name}; the simulator answers
 *       404 for any other name), load time, GPU memory = {@code gpuMemoryPerReplica};
 *   <li>a Deployment without {@code spec.replicas} gets 0, so every model starts cold (Kubernetes
 *       would create one replica and the controller would scale it to zero only after the idle
 *       timeout);
 *   <li>with {@link SandboxConfig#idleTimeout()}, every BudgetedModel's idle timeout is replaced
 *       and its keep-alive made {@code Fixed}.
 * </ul>
 */
final class Manifests {

  private Manifests() {}

  /** Every YAML document of the given files and directories, in path order. */
  static List<HasMetadata> read(KubernetesClient client, List<Path> paths) {
    List<HasMetadata> result = new ArrayList<>();
    for (Path path : paths) {
      for (Path file : yamlFiles(path)) {
        try (InputStream in = Files.newInputStream(file)) {
          result.addAll(client.load(in).items());
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read " + file, e);
        }
      }
    }
    return result;
  }

  private static List<Path> yamlFiles(Path path) {
    if (!Files.isDirectory(path)) {
      return List.of(path);
    }
    try (Stream<Path> files = Files.walk(path)) {
      return files
          .filter(Files::isRegularFile)
          .filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
          // examples/invalid holds manifests the CRD schema must refuse: not for applying
          .filter(f -> !path.relativize(f).toString().startsWith("invalid"))
          // examples/gitops holds Argo CD / Flux objects and a kustomization naming the examples
          .filter(f -> !path.relativize(f).toString().startsWith("gitops"))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + path, e);
    }
  }

  /**
   * The objects as the sandbox applies them: custom resources typed, Deployments annotated for the
   * simulator (see the class comment). CRDs and other kinds pass unchanged.
   */
  static List<HasMetadata> prepare(
      List<HasMetadata> objects, SandboxConfig config, KubernetesSerialization serialization) {
    List<HasMetadata> typed = new ArrayList<>();
    for (HasMetadata object : objects) {
      typed.add(typed(object, config, serialization));
    }
    Map<String, BudgetedModel> modelsByTarget = new HashMap<>();
    for (HasMetadata object : typed) {
      if (object instanceof BudgetedModel model
          && model.getSpec() != null
          && model.getSpec().targetRef() != null) {
        modelsByTarget.put(
            model.getMetadata().getNamespace() + "/" + model.getSpec().targetRef().name(), model);
      }
    }
    List<HasMetadata> result = new ArrayList<>();
    for (HasMetadata object : typed) {
      if (object instanceof Deployment deployment) {
        String key =
            deployment.getMetadata().getNamespace() + "/" + deployment.getMetadata().getName();
        result.add(simulated(deployment, modelsByTarget.get(key), config));
      } else {
        result.add(object);
      }
    }
    return result;
  }

  private static HasMetadata typed(
      HasMetadata object, SandboxConfig config, KubernetesSerialization serialization) {
    if (!(object instanceof GenericKubernetesResource generic)) {
      return object;
    }
    switch (generic.getKind()) {
      case "BudgetedModel":
        if (config.idleTimeout().isPresent()) {
          withIdleTimeout(generic, config.idleTimeout().get());
        }
        return serialization.convertValue(generic, BudgetedModel.class);
      case "InferenceBudget":
        return serialization.convertValue(generic, InferenceBudget.class);
      default:
        return object;
    }
  }

  @SuppressWarnings("unchecked")
  private static void withIdleTimeout(GenericKubernetesResource model, Duration idleTimeout) {
    Map<String, Object> spec =
        (Map<String, Object>)
            model.getAdditionalProperties().computeIfAbsent("spec", k -> new LinkedHashMap<>());
    Map<String, Object> scaleToZero =
        (Map<String, Object>) spec.computeIfAbsent("scaleToZero", k -> new LinkedHashMap<>());
    scaleToZero.put("idleTimeout", idleTimeout.toSeconds() + "s");
    // An adaptive keep-alive would stretch the timeout it learns; the sandbox wants the given one.
    scaleToZero.put("keepAlive", "Fixed");
  }

  private static Deployment simulated(
      Deployment deployment, BudgetedModel model, SandboxConfig config) {
    Deployment copy =
        new io.fabric8.kubernetes.api.model.apps.DeploymentBuilder(deployment).build();
    Map<String, String> annotations =
        new LinkedHashMap<>(
            copy.getMetadata().getAnnotations() == null
                ? Map.of()
                : copy.getMetadata().getAnnotations());
    annotations.putIfAbsent(
        DeploymentSimulation.LOAD_TIME, config.modelLoadTime().toMillis() + "ms");
    annotations.putIfAbsent(
        DeploymentSimulation.TERMINATION_DELAY, config.terminationDelay().toMillis() + "ms");
    if (model != null && model.getSpec() != null) {
      annotations.putIfAbsent(
          DeploymentSimulation.SERVED_MODEL_NAMES, String.join(",", model.getSpec().modelNames()));
      try {
        annotations.putIfAbsent(
            DeploymentSimulation.GPU_MEMORY_BYTES,
            Long.toString(model.getSpec().gpuMemoryPerReplicaBytes()));
      } catch (IllegalArgumentException invalidQuantity) {
        // the controller reports the invalid spec; the simulator keeps its default
      }
    }
    copy.getMetadata().setAnnotations(annotations);
    if (copy.getSpec() != null && copy.getSpec().getReplicas() == null) {
      copy.getSpec().setReplicas(0);
    }
    return copy;
  }
}
