package dev.inferencebudget.extproc.api;

import java.util.function.Consumer;

/**
 * Where the server reads the model table: the controller's {@code WatchModelStates} stream in
 * production, {@code InMemoryModelStates} in tests and static mode.
 */
public interface ModelStateSource {

  /** The newest table; never null (an empty table before the first snapshot). */
  ModelTable current();

  /**
   * Calls {@code listener} with every newer table, at once after each change, so held requests are
   * released the moment their model becomes routable. The listener must not block. Closing the
   * returned handle unsubscribes.
   */
  AutoCloseable subscribe(Consumer<ModelTable> listener);
}
