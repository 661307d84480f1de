package dev.inferencebudget.extproc.api;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An immutable snapshot of every model, indexed by key and by OpenAI model name. A class rather
 * than a record because it carries its lookup maps, built once per snapshot for the request path.
 */
public final class ModelTable {

  private final long version;
  private final List<ModelState> models;
  private final Map<String, ModelState> byName = new HashMap<>();
  private final Map<String, ModelState> byKey = new HashMap<>();

  /**
   * @param version monotonic; a source never goes back to an older table
   * @param models every model; a model name claimed twice routes to the later model
   */
  public ModelTable(long version, List<ModelState> models) {
    this.version = version;
    this.models = List.copyOf(models);
    for (ModelState model : this.models) {
      byKey.put(model.key(), model);
    }
    for (ModelState model : this.models) {
      byName.putIfAbsent(model.key(), model);
      for (String name : model.modelNames()) {
        byName.put(name, model);
      }
    }
  }

  public static ModelTable empty() {
    return new ModelTable(0, List.of());
  }

  public long version() {
    return version;
  }

  public List<ModelState> models() {
    return models;
  }

  /** The model that {@code modelName} (an OpenAI {@code model} value or a model key) names. */
  public Optional<ModelState> byName(String modelName) {
    return Optional.ofNullable(byName.get(modelName));
  }

  public Optional<ModelState> byKey(String key) {
    return Optional.ofNullable(byKey.get(key));
  }

  @Override
  public String toString() {
    return "ModelTable[version=" + version + ", models=" + byKey.keySet() + "]";
  }
}
