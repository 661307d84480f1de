package dev.inferencebudget.controller.link;

import dev.inferencebudget.proto.v1.ModelState;
import dev.inferencebudget.proto.v1.ModelStates;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Holds the latest model-state snapshot and hands every new one to the subscribed streams.
 *
 * <p>Snapshots are whole (the model set of one controller is small), numbered by a version that
 * only grows, and deduplicated: publishing the same models twice sends nothing.
 */
public final class ModelStatePublisher {

  private final List<Consumer<ModelStates>> subscribers = new CopyOnWriteArrayList<>();
  private ModelStates latest = ModelStates.getDefaultInstance();

  /**
   * Publishes the models; returns the snapshot's version (unchanged when the models are the same as
   * the previous snapshot's).
   */
  public long publish(List<ModelState> models) {
    Objects.requireNonNull(models, "models");
    ModelStates snapshot;
    synchronized (this) {
      if (latest.getVersion() > 0 && latest.getModelsList().equals(models)) {
        return latest.getVersion();
      }
      snapshot =
          ModelStates.newBuilder().setVersion(latest.getVersion() + 1).addAllModels(models).build();
      latest = snapshot;
    }
    for (Consumer<ModelStates> subscriber : subscribers) {
      subscriber.accept(snapshot);
    }
    return snapshot.getVersion();
  }

  /** The latest snapshot; version 0 and no models before the first publish. */
  public synchronized ModelStates latest() {
    return latest;
  }

  /**
   * Subscribes to every snapshot published from now on, after first receiving the latest one (when
   * one was published). Returns a handle that unsubscribes.
   */
  public AutoCloseable subscribe(Consumer<ModelStates> subscriber) {
    Objects.requireNonNull(subscriber, "subscriber");
    ModelStates current;
    synchronized (this) {
      subscribers.add(subscriber);
      current = latest;
    }
    if (current.getVersion() > 0) {
      subscriber.accept(current);
    }
    return () -> subscribers.remove(subscriber);
  }

  int subscriberCount() {
    return subscribers.size();
  }
}
