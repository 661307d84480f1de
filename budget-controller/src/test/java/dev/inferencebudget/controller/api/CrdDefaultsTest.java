package dev.inferencebudget.controller.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudget;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The schema's {@code default:} values (applied by the API server) and the Java records' defaults
 * (applied when the controller reads an object no API server defaulted, e.g. from the fabric8 mock)
 * give the same spec.
 */
class CrdDefaultsTest {

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  @Test
  void aMinimalModelDefaultedByTheSchemaEqualsOneDefaultedByJava() {
    String minimal =
        """
        apiVersion: inferencebudget.dev/v1alpha1
        kind: BudgetedModel
        metadata: {name: m, namespace: team-a}
        spec:
          modelNames: [m]
          targetRef: {name: vllm-m}
          budgetRef: {name: team-a}
          gpuMemoryPerReplica: 24Gi
          admission: {maxPromptTokens: 4096}
          schedules: [{name: office, start: "08:00", end: "18:00", minReplicas: 1}]
          route: {parentRefs: [{name: gw}]}
        """;
    JsonNode raw = SERIALIZATION.unmarshal(minimal, JsonNode.class);
    JsonNode defaulted =
        new CrdSchemaValidator(CrdFiles.chartCrd(BudgetedModel.class)).withDefaults(raw);

    assertThat(defaulted.path("spec").path("scaling").path("stableWindow").asString())
        .isEqualTo("60s");
    assertThat(
            defaulted.path("spec").path("admission").path("tokenizer").path("encoding").asString())
        .isEqualTo("o200k_base");
    assertThat(SERIALIZATION.convertValue(defaulted, BudgetedModel.class).getSpec())
        .isEqualTo(SERIALIZATION.convertValue(raw, BudgetedModel.class).getSpec());
  }

  @Test
  void aMinimalBudgetDefaultedByTheSchemaEqualsOneDefaultedByJava() {
    JsonNode raw =
        SERIALIZATION.unmarshal(
            "{\"apiVersion\":\"inferencebudget.dev/v1alpha1\",\"kind\":\"InferenceBudget\","
                + "\"metadata\":{\"name\":\"b\"},\"spec\":{\"gpuMemory\":\"160Gi\"}}",
            JsonNode.class);
    JsonNode defaulted =
        new CrdSchemaValidator(CrdFiles.chartCrd(InferenceBudget.class)).withDefaults(raw);

    assertThat(defaulted.path("spec").path("protectionThreshold").asInt()).isEqualTo(90);
    assertThat(SERIALIZATION.convertValue(defaulted, InferenceBudget.class).getSpec())
        .isEqualTo(SERIALIZATION.convertValue(raw, InferenceBudget.class).getSpec());
  }
}
