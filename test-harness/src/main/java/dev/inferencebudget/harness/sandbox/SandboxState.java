package dev.inferencebudget.harness.sandbox;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A snapshot of the sandbox as an operator would read it: the API server's objects (what {@code
 * kubectl get} shows), the simulated replicas and ext-proc's held requests. Equal snapshots mean
 * nothing visible changed, so the command prints a state line only when it differs.
 *
 * @param models every BudgetedModel, sorted by key
 * @param budgets every InferenceBudget, sorted by key
 * @param heldRequests requests ext-proc holds for cold models, all models together
 */
public record SandboxState(List<Model> models, List<Budget> budgets, int heldRequests) {

  public SandboxState {
    models = List.copyOf(Objects.requireNonNull(models, "models"));
    budgets = List.copyOf(Objects.requireNonNull(budgets, "budgets"));
  }

  /**
   * One BudgetedModel.
   *
   * @param key {@code namespace/name} (ext-proc's and the routing header's model key)
   * @param modelNames the OpenAI {@code model} values that route to it
   * @param budget the InferenceBudget's key
   * @param state {@code status.state} as the controller wrote it ({@code ""} before its first
   *     status)
   * @param desiredReplicas the target Deployment's {@code spec.replicas} (what the controller set)
   * @param replicas simulated replicas that exist and are not terminating
   * @param readyReplicas of those, the ones whose model has loaded
   * @param terminatingReplicas replicas still terminating (they still hold GPU memory)
   * @param gpuMemoryPerReplicaBytes {@code spec.gpuMemoryPerReplica}
   * @param heldRequests requests ext-proc holds for this model
   */
  public record Model(
      String key,
      List<String> modelNames,
      String budget,
      String state,
      int desiredReplicas,
      int replicas,
      int readyReplicas,
      int terminatingReplicas,
      long gpuMemoryPerReplicaBytes,
      int heldRequests) {
    public Model {
      Objects.requireNonNull(key, "key");
      modelNames = List.copyOf(Objects.requireNonNull(modelNames, "modelNames"));
      Objects.requireNonNull(budget, "budget");
      Objects.requireNonNull(state, "state");
    }

    /** GPU memory the model's pods hold now: existing and terminating replicas. */
    public long occupiedGpuMemoryBytes() {
      return (long) (replicas + terminatingReplicas) * gpuMemoryPerReplicaBytes;
    }
  }

  /**
   * One InferenceBudget.
   *
   * @param key {@code namespace/name}
   * @param gpuMemoryBytes {@code spec.gpuMemory}
   * @param reservedGpuMemoryBytes {@code status.reservedGpuMemory} as the controller wrote it (0
   *     before its first status)
   * @param occupiedGpuMemoryBytes what its models' simulated pods hold now (existing and
   *     terminating replicas × memory per replica): the figure that must never exceed {@code
   *     gpuMemoryBytes}
   * @param state {@code status.state} ({@code ""} before the first status)
   */
  public record Budget(
      String key,
      long gpuMemoryBytes,
      long reservedGpuMemoryBytes,
      long occupiedGpuMemoryBytes,
      String state) {
    public Budget {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(state, "state");
    }
  }

  /** The model with this key. */
  public Optional<Model> model(String key) {
    return models.stream().filter(m -> m.key().equals(key)).findFirst();
  }

  /** The model an OpenAI {@code model} value routes to. */
  public Optional<Model> modelNamed(String openAiModel) {
    return models.stream().filter(m -> m.modelNames().contains(openAiModel)).findFirst();
  }

  /** The budget with this key. */
  public Optional<Budget> budget(String key) {
    return budgets.stream().filter(b -> b.key().equals(key)).findFirst();
  }
}
