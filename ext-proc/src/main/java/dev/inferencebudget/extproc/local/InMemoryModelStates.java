package dev.inferencebudget.extproc.local;

import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.api.ModelStateSource;
import dev.inferencebudget.extproc.api.ModelTable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/** A model table that its owner edits; every edit publishes a new version to the subscribers. */
public final class InMemoryModelStates implements ModelStateSource {

  private final Map<String, ModelState> models = new LinkedHashMap<>();
  private final List<Consumer<ModelTable>> listeners = new CopyOnWriteArrayList<>();
  private volatile ModelTable current = ModelTable.empty();

  public InMemoryModelStates() {}

  public InMemoryModelStates(List<ModelState> initial) {
    replaceAll(initial);
  }

  @Override
  public ModelTable current() {
    return current;
  }

  @Override
  public AutoCloseable subscribe(Consumer<ModelTable> listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  /** Adds or replaces a model. */
  public void put(ModelState model) {
    publish(
        () -> {
          models.put(model.key(), model);
        });
  }

  /** Changes a model in place; does nothing if the key is unknown. */
  public void update(String key, UnaryOperator<ModelState> change) {
    publish(() -> models.computeIfPresent(key, (k, model) -> change.apply(model)));
  }

  public void remove(String key) {
    publish(() -> models.remove(key));
  }

  public void replaceAll(List<ModelState> all) {
    publish(
        () -> {
          models.clear();
          all.forEach(m -> models.put(m.key(), m));
        });
  }

  private void publish(Runnable edit) {
    ModelTable table;
    synchronized (models) {
      edit.run();
      table = new ModelTable(current.version() + 1, List.copyOf(models.values()));
      current = table;
    }
    for (Consumer<ModelTable> listener : listeners) {
      listener.accept(table);
    }
  }
}
