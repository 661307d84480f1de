package dev.inferencebudget.harness.fleet;

import java.util.List;
import java.util.Objects;

/**
 * The simulated fleet: its models (index = Zipf rank, 0 most popular) sharing one InferenceBudget.
 *
 * @param budgetName the InferenceBudget's name, in refusal reasons
 * @param budgetGpuMemoryBytes the budget's {@code spec.gpuMemory}
 * @param preemptIdleLowerPriority the budget's {@code spec.preemption} is {@code IdleLowerPriority}
 *     (else {@code Never})
 * @param models the models, most popular first
 */
public record Fleet(
    String budgetName,
    long budgetGpuMemoryBytes,
    boolean preemptIdleLowerPriority,
    List<ModelProfile> models) {
  public static final long GIB = 1L << 30;

  public Fleet {
    Objects.requireNonNull(budgetName, "budgetName");
    models = List.copyOf(Objects.requireNonNull(models, "models"));
    if (budgetGpuMemoryBytes <= 0) {
      throw new IllegalArgumentException("budget must be > 0, got " + budgetGpuMemoryBytes);
    }
    if (models.isEmpty()) {
      throw new IllegalArgumentException("a fleet needs at least one model");
    }
  }

  /**
   * The default fleet of {@code count} models: four archetypes (by GPU memory, load time and speed)
   * repeated, with priority falling with popularity rank in three tiers, so budget contention has
   * something to decide.
   */
  public static List<ModelProfile> defaultModels(int count) {
    record Archetype(long gib, int loadSeconds, double prefill, double decode, int concurrency) {}
    List<Archetype> archetypes =
        List.of(
            new Archetype(24, 40, 8_000, 60, 16), // 8B on one 24-48 GB GPU
            new Archetype(48, 75, 5_000, 45, 12), // 14B-class
            new Archetype(80, 120, 3_000, 30, 8), // 70B quantized, one 80 GB GPU
            new Archetype(16, 25, 12_000, 90, 24)); // 3B-class
    int[] priorities = {100, 50, 10};
    List<ModelProfile> models = new java.util.ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      Archetype a = archetypes.get(i % archetypes.size());
      int tier = Math.min(priorities.length - 1, i * priorities.length / count);
      models.add(
          new ModelProfile(
              "model-" + i,
              a.gib() * GIB,
              priorities[tier],
              java.time.Duration.ofSeconds(a.loadSeconds()),
              a.prefill(),
              a.decode(),
              a.concurrency(),
              4));
    }
    return models;
  }

  public long oneReplicaEachBytes() {
    return models.stream().mapToLong(ModelProfile::gpuMemoryPerReplicaBytes).sum();
  }
}
