package dev.inferencebudget.controller.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A namespace's GPU-memory budget: the most memory its {@link BudgetedModel}s may reserve together
 * (one tenant per namespace, like a ResourceQuota).
 *
 * <p>No scale subresource: a budget is not a workload with replicas; the controller scales the
 * models' Deployments.
 */
@Group(InferenceBudget.GROUP)
@Version(InferenceBudget.VERSION)
@ShortNames("ib")
@AdditionalPrinterColumn(
    name = "Used",
    jsonPath = ".status.reservedGpuMemory",
    type = AdditionalPrinterColumn.Type.STRING,
    getDescription = "GPU memory reserved by the models' replicas")
@AdditionalPrinterColumn(
    name = "Total",
    jsonPath = ".spec.gpuMemory",
    type = AdditionalPrinterColumn.Type.STRING,
    getDescription = "The budget")
@AdditionalPrinterColumn(
    name = "Used%",
    jsonPath = ".status.reservedPercent",
    type = AdditionalPrinterColumn.Type.INTEGER,
    getDescription = "Reserved memory as a percentage of the budget")
@AdditionalPrinterColumn(
    name = "State",
    jsonPath = ".status.state",
    type = AdditionalPrinterColumn.Type.STRING,
    getDescription = "Available, Protecting or Exhausted")
@AdditionalPrinterColumn(
    name = "Observed",
    jsonPath = ".status.observedGpuMemory",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1,
    getDescription = "GPU memory the replicas report using")
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class InferenceBudget extends CustomResource<InferenceBudgetSpec, InferenceBudgetStatus>
    implements Namespaced {

  public static final String GROUP = "inferencebudget.dev";
  public static final String VERSION = "v1alpha1";
}
