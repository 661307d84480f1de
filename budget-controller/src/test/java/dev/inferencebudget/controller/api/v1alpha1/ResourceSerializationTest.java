package dev.inferencebudget.controller.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.controller.api.Quantities;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResourceSerializationTest {

  private final KubernetesSerialization serialization = new KubernetesSerialization();

  @Test
  void aMinimalModelGetsEveryDocumentedDefaultWithoutAnApiServer() {
    BudgetedModel model =
        serialization.unmarshal(
            """
            apiVersion: inferencebudget.dev/v1alpha1
            kind: BudgetedModel
            metadata: {name: m, namespace: team-a}
            spec:
              modelNames: [m]
              targetRef: {name: vllm-m}
              budgetRef: {name: team-a}
              gpuMemoryPerReplica: 24Gi
            """,
            BudgetedModel.class);
    BudgetedModelSpec spec = model.getSpec();

    assertThat(spec.gpuMemoryPerReplicaBytes()).isEqualTo(25_769_803_776L);
    assertThat(spec.targetRef().kind()).isEqualTo(TargetKind.DEPLOYMENT);
    assertThat(spec.priority()).isEqualTo(100);
    assertThat(spec.replicas()).isEqualTo(new Replicas(0, 1));
    assertThat(spec.scaleToZero().idleTimeoutDuration()).isEqualTo(Duration.ofMinutes(10));
    assertThat(spec.scaleToZero().keepAlive()).isEqualTo(KeepAlivePolicy.FIXED);
    assertThat(spec.scaling().targetInFlightPerReplica()).isEqualTo(16);
    assertThat(spec.scaling().targetQueueDepthPerReplica()).isEqualTo(4);
    assertThat(spec.scaling().targetTimeToFirstTokenDuration()).isEmpty();
    assertThat(spec.scaling().stableWindowDuration()).isEqualTo(Duration.ofSeconds(60));
    assertThat(spec.scaling().panicWindowDuration()).isEqualTo(Duration.ofSeconds(6));
    assertThat(spec.scaling().panicThreshold()).isEqualTo(200);
    assertThat(spec.scaling().scaleDownDelayDuration()).isEqualTo(Duration.ofMinutes(5));
    assertThat(spec.scaling().maxScaleUpRate()).isEqualTo(2.0);
    assertThat(spec.coldStart().holdTimeoutDuration()).isEqualTo(Duration.ofMinutes(5));
    assertThat(spec.coldStart().maxHeldRequests()).isEqualTo(100);
    assertThat(spec.schedules()).isEmpty();
    assertThat(spec.admission().maxPromptTokens()).isNull();
    assertThat(spec.admission().maxTokensPolicy()).isEqualTo(MaxTokensPolicy.REJECT);
    assertThat(spec.admission().tenantHeader()).isEqualTo("authorization");
    assertThat(spec.admission().queueLength()).isEqualTo(100);
    assertThat(spec.admission().queueWaitDuration()).isEqualTo(Duration.ofSeconds(30));
    assertThat(spec.admission().tokenizer())
        .isEqualTo(new Tokenizer(TokenizerType.TIKTOKEN, TiktokenEncoding.O200K_BASE, null));
    assertThat(spec.nodeWarmth()).isFalse();
    assertThat(spec.route()).isNull();
  }

  @Test
  void aBudgetReadsItsQuantityExactlyAndDefaultsItsPolicy() {
    InferenceBudget budget =
        serialization.unmarshal(
            """
            apiVersion: inferencebudget.dev/v1alpha1
            kind: InferenceBudget
            metadata: {name: team-a, namespace: team-a}
            spec: {gpuMemory: 160Gi}
            """,
            InferenceBudget.class);

    assertThat(budget.getSpec().gpuMemoryBytes()).isEqualTo(171_798_691_840L);
    assertThat(budget.getSpec().protectionThreshold()).isEqualTo(90);
    assertThat(budget.getSpec().protectedPriority()).isEqualTo(500);
    assertThat(budget.getSpec().preemption()).isEqualTo(Preemption.NEVER);
  }

  @Test
  void enumsAndSchedulesUseTheirKubernetesSpelling() {
    BudgetedModelSpec spec =
        serialization.unmarshal(
            """
            modelNames: [m]
            targetRef: {name: vllm-m}
            budgetRef: {name: team-a}
            gpuMemoryPerReplica: 8Gi
            scaleToZero: {keepAlive: Adaptive}
            admission: {maxTokensPolicy: Clamp, tokenizer: {type: HuggingFace, path: /t/tokenizer.json}}
            schedules:
            - {name: office, days: [Monday, Friday], start: "08:00", end: "18:30", timeZone: Europe/Berlin, minReplicas: 1}
            """,
            BudgetedModelSpec.class);

    assertThat(spec.scaleToZero().keepAlive()).isEqualTo(KeepAlivePolicy.ADAPTIVE);
    assertThat(spec.admission().maxTokensPolicy()).isEqualTo(MaxTokensPolicy.CLAMP);
    assertThat(spec.admission().tokenizer().type()).isEqualTo(TokenizerType.HUGGING_FACE);
    Schedule office = spec.schedules().get(0);
    assertThat(office.daysOfWeek()).containsExactlyInAnyOrder(DayOfWeek.MONDAY, DayOfWeek.FRIDAY);
    assertThat(office.startTime()).isEqualTo(LocalTime.of(8, 0));
    assertThat(office.endTime()).isEqualTo(LocalTime.of(18, 30));
    assertThat(office.zoneId().getId()).isEqualTo("Europe/Berlin");
    assertThat(serialization.asJson(spec))
        .contains(
            "\"keepAlive\":\"Adaptive\"",
            "\"days\":[\"Monday\",\"Friday\"]",
            "\"type\":\"HuggingFace\"");
  }

  @Test
  void statusRoundTripsWithRfc3339TimesAndReadableQuantities() {
    BudgetedModelStatus status =
        new BudgetedModelStatus(
            3L,
            ModelState.COLD_STARTING,
            1,
            0,
            1,
            Quantities.ofBytes(25_769_803_776L),
            null,
            Instant.parse("2026-11-28T10:00:00Z"),
            Instant.parse("2026-11-28T10:00:01Z"),
            null,
            null,
            new IdleGapHistogram(60L, 240, java.util.Map.of("3", 12L), 1L),
            Instant.parse("2026-11-28T10:00:01Z"),
            List.of("gpu-node-1"),
            List.of(
                new ConditionBuilder()
                    .withType("Ready")
                    .withStatus("False")
                    .withReason("ColdStarting")
                    .withMessage("waiting for the first replica")
                    .withLastTransitionTime("2026-11-28T10:00:01Z")
                    .withObservedGeneration(3L)
                    .build()));

    String json = serialization.asJson(status);

    assertThat(json)
        .contains(
            "\"state\":\"ColdStarting\"",
            "\"reservedGpuMemory\":\"24Gi\"",
            "\"lastRequestTime\":\"2026-11-28T10:00:00Z\"")
        .doesNotContain("observedGpuMemory", "idleSince", "null");
    assertThat(serialization.unmarshal(json, BudgetedModelStatus.class)).isEqualTo(status);
  }

  @Test
  void budgetStatusListsEachModelsReservation() {
    InferenceBudgetStatus status =
        new InferenceBudgetStatus(
            1L,
            BudgetState.PROTECTING,
            new Quantity("152Gi"),
            null,
            95,
            List.of(new ModelReservation("llama", 900, 2, new Quantity("48Gi"), ModelState.READY)),
            null);

    String json = serialization.asJson(status);

    assertThat(json)
        .contains("\"state\":\"Protecting\"", "\"reservedPercent\":95", "\"name\":\"llama\"");
    assertThat(serialization.unmarshal(json, InferenceBudgetStatus.class)).isEqualTo(status);
  }
}
