package dev.inferencebudget.extproc.link;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.extproc.api.ControllerLink;
import dev.inferencebudget.extproc.api.LoadSource;
import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.api.ModelTable;
import dev.inferencebudget.proto.v1.ActivationResponse;
import dev.inferencebudget.proto.v1.AdmissionPolicy;
import dev.inferencebudget.proto.v1.BudgetRefusal;
import dev.inferencebudget.proto.v1.ColdStartPolicy;
import dev.inferencebudget.proto.v1.Endpoint;
import dev.inferencebudget.proto.v1.LoadReport;
import dev.inferencebudget.proto.v1.ModelStates;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProtoConversionsTest {

  @Test
  void everyModelFieldConvertsAndAnInvalidModelIsLeftOutAlone() {
    ModelStates snapshot =
        ModelStates.newBuilder()
            .setVersion(7)
            .addModels(
                dev.inferencebudget.proto.v1.ModelState.newBuilder()
                    .setKey("ns/qwen")
                    .addModelNames("qwen3")
                    .setState(dev.inferencebudget.proto.v1.ModelState.State.READY)
                    .setRoutable(true)
                    .addEndpoints(
                        Endpoint.newBuilder()
                            .setAddress("10.0.0.1:8000")
                            .setReady(true)
                            .setPod("p"))
                    .setAdmission(
                        AdmissionPolicy.newBuilder()
                            .setMaxPromptTokens(32000)
                            .setMaxCompletionTokens(4096)
                            .setMaxTokensPolicy("Reject")
                            .setTokensPerMinute(100000)
                            .setRequestsPerMinute(60)
                            .setTenantHeader("X-Api-Key")
                            .setQueueLength(50)
                            .setQueueWait(com.google.protobuf.Duration.newBuilder().setSeconds(20))
                            .setTokenizer("qwen3")
                            .setImageTokens(1200))
                    .setColdStart(
                        ColdStartPolicy.newBuilder()
                            .setHoldTimeout(
                                com.google.protobuf.Duration.newBuilder().setSeconds(300))
                            .setMaxHeldRequests(200))
                    .setBudgetRefusal(
                        BudgetRefusal.newBuilder().setBudget("ns/b").setNeededBytes(5))
                    .setReadyReplicas(2)
                    .setTargetInFlightPerReplica(8)
                    .setPriority(3))
            .addModels(
                dev.inferencebudget.proto.v1.ModelState.newBuilder()
                    .setKey("ns/bad")
                    .setReadyReplicas(-1))
            .build();
    ModelTable table = ProtoConversions.toTable(snapshot);
    assertThat(table.version()).isEqualTo(7);
    assertThat(table.models()).hasSize(1);
    ModelState m = table.byName("qwen3").orElseThrow();
    assertThat(m.key()).isEqualTo("ns/qwen");
    assertThat(m.routable()).isTrue();
    assertThat(m.concurrencyLimit()).isEqualTo(16);
    assertThat(m.admission().maxTokensPolicy()).isEqualTo(ModelState.MaxTokensPolicy.REJECT);
    assertThat(m.admission().tenantHeader()).isEqualTo("x-api-key");
    assertThat(m.admission().queueWait()).isEqualTo(Duration.ofSeconds(20));
    assertThat(m.admission().imageTokens()).isEqualTo(1200);
    assertThat(m.admission().audioTokens())
        .as("unset (0) means the default")
        .isEqualTo(ModelState.AdmissionPolicy.DEFAULT_AUDIO_TOKENS);
    assertThat(m.coldStart().maxHeldRequests()).isEqualTo(200);
    assertThat(m.budgetRefusal().orElseThrow().budget()).isEqualTo("ns/b");
    assertThat(m.priority()).isEqualTo(3);
  }

  @Test
  void activationAnswersAndLoadReportsConvert() {
    assertThat(
            ProtoConversions.toActivation(
                    ActivationResponse.newBuilder()
                        .setResult(ActivationResponse.Result.REFUSED)
                        .setRefusal(BudgetRefusal.newBuilder().setBudget("ns/b"))
                        .build())
                .result())
        .isEqualTo(ControllerLink.Result.REFUSED);
    LoadReport report =
        ProtoConversions.toLoadReport(
            "pod-1",
            Instant.ofEpochSecond(100),
            List.of(
                new LoadSource.ModelLoad(
                    "ns/m",
                    3,
                    1,
                    2,
                    0,
                    10,
                    20,
                    Double.NaN,
                    Double.NaN,
                    Optional.of(Instant.ofEpochSecond(99)))));
    assertThat(report.getReplica()).isEqualTo("pod-1");
    assertThat(report.getModels(0).getQueued()).isEqualTo(2);
    assertThat(report.getModels(0).getTtftP50Seconds()).isZero();
    assertThat(report.getModels(0).getLastRequest().getSeconds()).isEqualTo(99);
  }
}
