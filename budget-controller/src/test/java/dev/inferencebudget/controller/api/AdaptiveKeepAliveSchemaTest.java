package dev.inferencebudget.controller.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.controller.api.CrdSchemaValidator.Violation;
import dev.inferencebudget.controller.api.v1alpha1.AdaptiveKeepAlive;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;

/**
 * {@code spec.scaleToZero.adaptive} against the chart's CRD as the API server would check it:
 * defaults, positive durations, and at most {@link AdaptiveKeepAlive#MAX_BUCKETS} buckets.
 */
class AdaptiveKeepAliveSchemaTest {

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final CrdSchemaValidator VALIDATOR =
      new CrdSchemaValidator(CrdFiles.chartCrd(BudgetedModel.class));

  private static JsonNode model(String scaleToZero) {
    return SERIALIZATION.unmarshal(
        """
        apiVersion: inferencebudget.dev/v1alpha1
        kind: BudgetedModel
        metadata: {name: m, namespace: team-a}
        spec:
          modelNames: [m]
          targetRef: {name: vllm-m}
          budgetRef: {name: team-a}
          gpuMemoryPerReplica: 24Gi
          scaleToZero: %s
        """
            .formatted(scaleToZero),
        JsonNode.class);
  }

  @Test
  void anAdaptiveModelWithoutATimeScaleGetsOneMinuteBucketsOverFourHours() {
    JsonNode raw = model("{keepAlive: Adaptive}");

    JsonNode defaulted = VALIDATOR.withDefaults(raw);

    JsonNode adaptive = defaulted.path("spec").path("scaleToZero").path("adaptive");
    assertThat(adaptive.path("bucketWidth").asString()).isEqualTo("1m");
    assertThat(adaptive.path("histogramRange").asString()).isEqualTo("4h");
    assertThat(VALIDATOR.validate(raw)).isEmpty();
    BudgetedModel javaDefaulted = SERIALIZATION.convertValue(raw, BudgetedModel.class);
    assertThat(javaDefaulted.getSpec().scaleToZero().adaptive().bucketWidthDuration())
        .isEqualTo(Duration.ofMinutes(1));
    assertThat(javaDefaulted.getSpec().scaleToZero().adaptive().histogramRangeDuration())
        .isEqualTo(Duration.ofHours(4));
    assertThat(SERIALIZATION.convertValue(defaulted, BudgetedModel.class).getSpec())
        .isEqualTo(javaDefaulted.getSpec());
  }

  @ParameterizedTest(name = "bucketWidth {0} over {1} is accepted")
  @CsvSource({
    "1m, 4h", // the paper's
    "1s, 4m", // the paper's at a 60x speed-up
    "1ms, 100s", // exactly 100000 buckets
    "1500us, 100s", // 1.5 ms counts as 1 ms, as in the decision core
    "30s, 30s" // one bucket
  })
  void aTimeScaleWithinTheLimitsIsAccepted(String bucketWidth, String histogramRange) {
    assertThat(
            violations(
                "{keepAlive: Adaptive, adaptive: {bucketWidth: %s, histogramRange: %s}}"
                    .formatted(bucketWidth, histogramRange)))
        .isEmpty();
  }

  @ParameterizedTest(name = "bucketWidth {0} over {1}: {3}")
  @CsvSource(
      delimiter = '|',
      value = {
        "0s | 4h | spec.scaleToZero.adaptive.bucketWidth | must be at least 1ms",
        "999us | 4h | spec.scaleToZero.adaptive.bucketWidth | must be at least 1ms",
        "1m | 30s | spec.scaleToZero.adaptive.histogramRange | must be at least bucketWidth",
        "1ms | 100001ms | spec.scaleToZero.adaptive.histogramRange | at most 100000 buckets",
        "1s | 48h | spec.scaleToZero.adaptive.histogramRange | at most 100000 buckets",
        // 150000 ms in buckets of 1.5 ms counted as 1 ms, as the decision core counts them
        "1500us | 150s | spec.scaleToZero.adaptive.histogramRange | at most 100000 buckets"
      })
  void aTimeScaleOutsideTheLimitsIsRejectedNamingTheField(
      String bucketWidth, String histogramRange, String path, String message) {
    List<Violation> violations =
        violations(
            "{keepAlive: Adaptive, adaptive: {bucketWidth: \"%s\", histogramRange: \"%s\"}}"
                .formatted(bucketWidth, histogramRange));

    assertThat(violations)
        .isNotEmpty()
        .anySatisfy(
            v -> {
              assertThat(v.path()).isEqualTo(path);
              assertThat(v.message()).contains(message);
            });
  }

  private static List<Violation> violations(String scaleToZero) {
    return VALIDATOR.validate(model(scaleToZero));
  }
}
