package dev.inferencebudget.controller.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A model served by a vLLM Deployment whose replicas reserve GPU memory from an {@link
 * InferenceBudget}: the controller scales the Deployment (0..max), ext-proc admits its requests.
 *
 * <p>No scale subresource: this resource is not the scaled workload. The controller writes the
 * target Deployment's scale subresource and is its single writer; a {@code /scale} here would
 * invite an HPA to fight the controller.
 */
@Group(InferenceBudget.GROUP)
@Version(InferenceBudget.VERSION)
@ShortNames("bm")
@AdditionalPrinterColumn(
    name = "State",
    jsonPath = ".status.state",
    type = AdditionalPrinterColumn.Type.STRING,
    getDescription = "ScaledToZero, ColdStarting, Ready, Scaling or BudgetBlocked")
@AdditionalPrinterColumn(
    name = "Replicas",
    jsonPath = ".status.replicas",
    type = AdditionalPrinterColumn.Type.INTEGER,
    getDescription = "Replicas of the target that exist or are starting")
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.readyReplicas",
    type = AdditionalPrinterColumn.Type.INTEGER,
    getDescription = "Replicas that serve requests")
@AdditionalPrinterColumn(
    name = "Reserved",
    jsonPath = ".status.reservedGpuMemory",
    type = AdditionalPrinterColumn.Type.STRING,
    getDescription = "GPU memory reserved from the budget")
@AdditionalPrinterColumn(
    name = "LastRequest",
    jsonPath = ".status.lastRequestTime",
    type = AdditionalPrinterColumn.Type.DATE,
    getDescription = "When the last request arrived")
@AdditionalPrinterColumn(
    name = "Budget",
    jsonPath = ".spec.budgetRef.name",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
@AdditionalPrinterColumn(
    name = "Priority",
    jsonPath = ".spec.priority",
    type = AdditionalPrinterColumn.Type.INTEGER,
    priority = 1)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class BudgetedModel extends CustomResource<BudgetedModelSpec, BudgetedModelStatus>
    implements Namespaced {}
