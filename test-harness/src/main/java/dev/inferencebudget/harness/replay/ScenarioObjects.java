package dev.inferencebudget.harness.replay;

import dev.inferencebudget.controller.api.v1alpha1.AdaptiveKeepAlive;
import dev.inferencebudget.controller.api.v1alpha1.BudgetRef;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModelSpec;
import dev.inferencebudget.controller.api.v1alpha1.ColdStart;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudget;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudgetSpec;
import dev.inferencebudget.controller.api.v1alpha1.Preemption;
import dev.inferencebudget.controller.api.v1alpha1.Replicas;
import dev.inferencebudget.controller.api.v1alpha1.ScaleToZero;
import dev.inferencebudget.controller.api.v1alpha1.Scaling;
import dev.inferencebudget.controller.api.v1alpha1.TargetRef;
import dev.inferencebudget.controller.decision.ScalingSpec;
import dev.inferencebudget.harness.fleet.KeepAlivePolicy;
import dev.inferencebudget.harness.fleet.ModelProfile;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The replay's fleet as Kubernetes objects: one InferenceBudget, and per model a vLLM Deployment
 * (simulated by the kubelet through its annotations) and a BudgetedModel. They say in Kubernetes
 * terms what {@code DecisionCoreAutoscaler} says to the decision core in the fleet simulator (same
 * budget, priorities, replica bounds, load targets, windows, keep-alive), with every timing and
 * token rate converted to wall time by the speed-up.
 *
 * @param namespace where the objects go (one tenant, one budget)
 * @param scenario the scenario to express
 */
public record ScenarioObjects(String namespace, ReplayScenario scenario) {
  public static final String BUDGET_NAME = "replay-budget";

  /** Labels every replay Deployment carries (and the template, so its pods too). */
  public static final String PART_OF_LABEL = "app.kubernetes.io/part-of";

  public static final String PART_OF = "ibc-replay";

  /** The label the simulated kubelet puts on each pod: the name of its Deployment. */
  public static final String POD_DEPLOYMENT_LABEL = "sim.inferencebudget.dev/deployment";

  private static final String ANNOTATION_PREFIX = "sim.inferencebudget.dev/";

  // Room in the simulator's context for the capped prompt, the completion and the chat template.
  private static final int CONTEXT_MARGIN_TOKENS = 64;

  // The most requests held per model during a cold start: the fleet simulator holds without limit.
  private static final int MAX_HELD_REQUESTS = 10_000;

  public ScenarioObjects {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(scenario, "scenario");
  }

  /** The Deployment of model {@code model}. */
  public static String deploymentName(ModelProfile model) {
    return "vllm-" + model.name();
  }

  public InferenceBudget budget() {
    InferenceBudget budget = new InferenceBudget();
    budget.getMetadata().setNamespace(namespace);
    budget.getMetadata().setName(BUDGET_NAME);
    // As DecisionCoreAutoscaler's BudgetSpec: no protection threshold (100%, priority 0).
    budget.setSpec(
        new InferenceBudgetSpec(
            new Quantity(Long.toString(scenario.fleet().budgetGpuMemoryBytes())),
            100,
            0,
            scenario.fleet().preemptIdleLowerPriority()
                ? Preemption.IDLE_LOWER_PRIORITY
                : Preemption.NEVER));
    return budget;
  }

  public List<Deployment> deployments() {
    List<Deployment> deployments = new ArrayList<>();
    for (ModelProfile model : scenario.fleet().models()) {
      deployments.add(deployment(model));
    }
    return deployments;
  }

  public List<BudgetedModel> budgetedModels() {
    List<BudgetedModel> models = new ArrayList<>();
    for (ModelProfile model : scenario.fleet().models()) {
      models.add(budgetedModel(model));
    }
    return models;
  }

  Deployment deployment(ModelProfile model) {
    String name = deploymentName(model);
    Map<String, String> annotations = new LinkedHashMap<>();
    // The kubelet reads ISO-8601 durations (PT0.666S); the CRDs take Go durations (666ms).
    annotations.put(ANNOTATION_PREFIX + "served-model-names", model.name());
    annotations.put(ANNOTATION_PREFIX + "load-time", scenario.wall(model.loadTime()).toString());
    annotations.put(
        ANNOTATION_PREFIX + "prefill-tokens-per-second",
        Double.toString(scenario.wallRate(model.prefillTokensPerSecond())));
    annotations.put(
        ANNOTATION_PREFIX + "decode-tokens-per-second",
        Double.toString(scenario.wallRate(model.decodeTokensPerSecond())));
    annotations.put(ANNOTATION_PREFIX + "max-num-seqs", Integer.toString(model.maxConcurrency()));
    annotations.put(
        ANNOTATION_PREFIX + "max-model-len",
        Integer.toString(
            scenario.maxPromptTokens() + scenario.maxCompletionTokens() + CONTEXT_MARGIN_TOKENS));
    annotations.put(
        ANNOTATION_PREFIX + "gpu-memory-bytes", Long.toString(model.gpuMemoryPerReplicaBytes()));
    annotations.put(
        ANNOTATION_PREFIX + "termination-delay",
        scenario.wall(scenario.settings().terminationDelay()).toString());
    Map<String, String> labels = Map.of(PART_OF_LABEL, PART_OF, "app.kubernetes.io/name", name);
    return new DeploymentBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(name)
        .withLabels(labels)
        .withAnnotations(annotations)
        .endMetadata()
        .withNewSpec()
        // Every model starts at zero, as in the fleet simulator; the controller scales from there.
        .withReplicas(0)
        .withNewSelector()
        .withMatchLabels(Map.of("app.kubernetes.io/name", name))
        .endSelector()
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(labels)
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("vllm")
        .withImage("vllm/vllm-openai:v0.12.0")
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

  BudgetedModel budgetedModel(ModelProfile model) {
    boolean alwaysOn = scenario.policy() instanceof KeepAlivePolicy.AlwaysOn;
    ScalingSpec core = ScalingSpec.defaults();
    Scaling scaling =
        new Scaling(
            model.maxConcurrency(),
            model.maxConcurrency(),
            null,
            goDuration(scenario.wall(core.stableWindow())),
            goDuration(scenario.wall(core.panicWindow())),
            core.panicThresholdPercent(),
            goDuration(scenario.wall(core.scaleDownDelay())),
            core.maxScaleUpRate());
    BudgetedModel budgeted = new BudgetedModel();
    budgeted.getMetadata().setNamespace(namespace);
    budgeted.getMetadata().setName(model.name());
    budgeted.setSpec(
        new BudgetedModelSpec(
            List.of(model.name()),
            new TargetRef(null, deploymentName(model)),
            new BudgetRef(BUDGET_NAME),
            new Quantity(Long.toString(model.gpuMemoryPerReplicaBytes())),
            model.priority(),
            new Replicas(alwaysOn ? 1 : 0, model.maxReplicas()),
            scaleToZero(),
            scaling,
            new ColdStart(
                goDuration(scenario.wall(scenario.settings().holdTimeout())), MAX_HELD_REQUESTS),
            null,
            null,
            false,
            null));
    return budgeted;
  }

  /**
   * The keep-alive in wall time. Fixed: the idle timeout divided by the speed. Adaptive: the
   * decision core's policy of the fleet simulator with its histogram's bucket width, range and
   * fallback divided by the speed ({@link ReplayScenario#adaptiveKeepAliveWall()}), so that the
   * controller learns the same buckets of trace time. Always-on: the floor of 1 keeps the replica;
   * the timeout only matters above it.
   */
  ScaleToZero scaleToZero() {
    if (scenario.policy() instanceof KeepAlivePolicy.Adaptive) {
      dev.inferencebudget.controller.decision.KeepAlivePolicy.Adaptive wall =
          scenario.adaptiveKeepAliveWall();
      return new ScaleToZero(
          goDuration(wall.fallbackIdleTimeout()),
          dev.inferencebudget.controller.api.v1alpha1.KeepAlivePolicy.ADAPTIVE,
          new AdaptiveKeepAlive(goDuration(wall.bucketWidth()), goDuration(wall.histogramRange())));
    }
    Duration idleTimeout =
        scenario.policy() instanceof KeepAlivePolicy.Fixed fixed
            ? fixed.idleTimeout()
            : Duration.ofMinutes(10);
    return new ScaleToZero(
        goDuration(scenario.wall(idleTimeout)),
        dev.inferencebudget.controller.api.v1alpha1.KeepAlivePolicy.FIXED);
  }

  /**
   * Creates the namespace (when missing), the CRDs (when missing: the sandbox registers them, a
   * bare API server may not), the budget, the Deployments and the BudgetedModels.
   */
  public void apply(KubernetesClient client) {
    Objects.requireNonNull(client, "client");
    if (client.namespaces().withName(namespace).get() == null) {
      client
          .namespaces()
          .resource(
              new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
          .create();
    }
    registerCrdsIfMissing(client);
    client.resource(budget()).create();
    for (Deployment deployment : deployments()) {
      client.resource(deployment).create();
    }
    for (BudgetedModel model : budgetedModels()) {
      client.resource(model).create();
    }
  }

  private static void registerCrdsIfMissing(KubernetesClient client) {
    for (Class<? extends CustomResource<?, ?>> type :
        List.<Class<? extends CustomResource<?, ?>>>of(
            InferenceBudget.class, BudgetedModel.class)) {
      String plural = HasMetadata.getPlural(type);
      String group = HasMetadata.getGroup(type);
      String name = plural + "." + group;
      if (client.apiextensions().v1().customResourceDefinitions().withName(name).get() != null) {
        continue;
      }
      client
          .apiextensions()
          .v1()
          .customResourceDefinitions()
          .resource(
              new CustomResourceDefinitionBuilder()
                  .withNewMetadata()
                  .withName(name)
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

  /** A Go duration (the CRDs' format): whole milliseconds when exact, else microseconds. */
  static String goDuration(Duration duration) {
    long nanos = duration.toNanos();
    if (nanos % 1_000_000 == 0) {
      return (nanos / 1_000_000) + "ms";
    }
    return Math.max(1, Math.round(nanos / 1_000.0)) + "us";
  }
}
