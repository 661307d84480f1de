package dev.inferencebudget.controller.k8s;

import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModelStatus;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudget;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudgetStatus;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;

/**
 * PUTs the status subresource with the resourceVersion last seen; on 409 it reads the object again
 * and retries with the same status (the status is computed from the whole fleet, not from the
 * object's old status, so a fresh read changes nothing but the resourceVersion).
 */
public final class SubresourceStatusWriter implements StatusWriter {

  private final KubernetesClient client;
  private final int conflictRetries;
  private final Runnable onConflict;

  public SubresourceStatusWriter(
      KubernetesClient client, int conflictRetries, Runnable onConflict) {
    this.client = Objects.requireNonNull(client, "client");
    this.conflictRetries = conflictRetries;
    this.onConflict = Objects.requireNonNull(onConflict, "onConflict");
  }

  @Override
  public void model(BudgetedModel current, BudgetedModelStatus status) {
    write(BudgetedModel.class, current, status, BudgetedModelCopy::of);
  }

  @Override
  public void budget(InferenceBudget current, InferenceBudgetStatus status) {
    write(InferenceBudget.class, current, status, InferenceBudgetCopy::of);
  }

  private <S, R extends CustomResource<?, S>> void write(
      Class<R> type, R current, S status, BiFunction<R, S, R> withStatus) {
    String ns = current.getMetadata().getNamespace();
    String name = current.getMetadata().getName();
    AtomicReference<R> seen = new AtomicReference<>(current);
    Conflicts.retry(
        conflictRetries,
        () -> {
          onConflict.run();
          seen.set(client.resources(type).inNamespace(ns).withName(name).get());
          if (seen.get() == null) {
            throw new io.fabric8.kubernetes.client.KubernetesClientException(
                type.getSimpleName() + " " + ns + "/" + name + " is gone", 404, null);
          }
        },
        () -> client.resource(withStatus.apply(seen.get(), status)).updateStatus());
  }

  /** A copy that shares metadata and spec (never mutated) with a new status. */
  private static final class BudgetedModelCopy {
    static BudgetedModel of(BudgetedModel from, BudgetedModelStatus status) {
      BudgetedModel copy = new BudgetedModel();
      copy.setMetadata(from.getMetadata());
      copy.setSpec(from.getSpec());
      copy.setStatus(status);
      return copy;
    }
  }

  private static final class InferenceBudgetCopy {
    static InferenceBudget of(InferenceBudget from, InferenceBudgetStatus status) {
      InferenceBudget copy = new InferenceBudget();
      copy.setMetadata(from.getMetadata());
      copy.setSpec(from.getSpec());
      copy.setStatus(status);
      return copy;
    }
  }
}
