package dev.inferencebudget.extproc.link;

import com.google.protobuf.Timestamp;
import dev.inferencebudget.extproc.api.ControllerLink;
import dev.inferencebudget.extproc.api.LoadSource;
import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.api.ModelTable;
import dev.inferencebudget.proto.v1.ActivationResponse;
import dev.inferencebudget.proto.v1.BudgetRefusal;
import dev.inferencebudget.proto.v1.LoadReport;
import dev.inferencebudget.proto.v1.ModelLoad;
import dev.inferencebudget.proto.v1.ModelStates;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ibc.v1} ⇄ {@code api}. Each model converts on its own: one invalid model is logged and
 * left out, the others still serve (as grpc-java's xDS client treats resources).
 */
public final class ProtoConversions {
  private static final Logger log = LoggerFactory.getLogger(ProtoConversions.class);

  private ProtoConversions() {}

  /** A model table from a snapshot; invalid models are dropped with a warning. */
  public static ModelTable toTable(ModelStates snapshot) {
    List<ModelState> models = new ArrayList<>(snapshot.getModelsCount());
    for (dev.inferencebudget.proto.v1.ModelState proto : snapshot.getModelsList()) {
      try {
        models.add(toModel(proto));
      } catch (RuntimeException e) {
        log.warn(
            "model {} in snapshot {} is invalid and left out: {}",
            proto.getKey(),
            snapshot.getVersion(),
            e.getMessage());
      }
    }
    return new ModelTable(snapshot.getVersion(), models);
  }

  public static ModelState toModel(dev.inferencebudget.proto.v1.ModelState proto) {
    dev.inferencebudget.proto.v1.AdmissionPolicy a = proto.getAdmission();
    ModelState.AdmissionPolicy defaults = ModelState.AdmissionPolicy.unlimited();
    ModelState.AdmissionPolicy admission =
        proto.hasAdmission()
            ? new ModelState.AdmissionPolicy(
                a.getMaxPromptTokens(),
                a.getMaxCompletionTokens(),
                a.getMaxTokensPolicy().isEmpty()
                    ? ModelState.MaxTokensPolicy.CLAMP
                    : ModelState.MaxTokensPolicy.valueOf(
                        a.getMaxTokensPolicy().toUpperCase(Locale.ROOT)),
                a.getTokensPerMinute(),
                a.getRequestsPerMinute(),
                a.getTenantHeader().toLowerCase(Locale.ROOT),
                a.getQueueLength(),
                a.hasQueueWait() ? duration(a.getQueueWait()) : defaults.queueWait(),
                a.getTokenizer(),
                // proto3 cannot tell 0 from unset: 0 means the default cost.
                a.getImageTokens() > 0 ? a.getImageTokens() : defaults.imageTokens(),
                a.getAudioTokens() > 0 ? a.getAudioTokens() : defaults.audioTokens())
            : defaults;
    ModelState.ColdStartPolicy coldDefaults = ModelState.ColdStartPolicy.defaults();
    ModelState.ColdStartPolicy coldStart =
        proto.hasColdStart()
            ? new ModelState.ColdStartPolicy(
                proto.getColdStart().hasHoldTimeout()
                    ? duration(proto.getColdStart().getHoldTimeout())
                    : coldDefaults.holdTimeout(),
                proto.getColdStart().getMaxHeldRequests())
            : coldDefaults;
    return new ModelState(
        proto.getKey(),
        proto.getModelNamesList(),
        state(proto.getState()),
        proto.getRoutable(),
        proto.getEndpointsList().stream()
            .map(e -> new ModelState.Endpoint(e.getAddress(), e.getReady(), e.getPod()))
            .toList(),
        admission,
        coldStart,
        proto.hasBudgetRefusal()
            ? Optional.of(toRefusal(proto.getBudgetRefusal()))
            : Optional.empty(),
        proto.getReadyReplicas(),
        proto.getTargetInFlightPerReplica(),
        proto.getPriority());
  }

  /** The answer to an activation. */
  public static ControllerLink.Activation toActivation(ActivationResponse response) {
    return switch (response.getResult()) {
      case ACCEPTED -> ControllerLink.Activation.accepted();
      case REFUSED -> ControllerLink.Activation.refused(toRefusal(response.getRefusal()));
      case UNKNOWN_MODEL -> ControllerLink.Activation.unknownModel();
      case RESULT_UNSPECIFIED, UNRECOGNIZED ->
          throw new IllegalArgumentException("activation answer without a result");
    };
  }

  /** One load report of this replica. */
  public static LoadReport toLoadReport(
      String replica, Instant windowEnd, List<LoadSource.ModelLoad> loads) {
    LoadReport.Builder report =
        LoadReport.newBuilder().setReplica(replica).setWindowEnd(timestamp(windowEnd));
    for (LoadSource.ModelLoad load : loads) {
      ModelLoad.Builder m =
          ModelLoad.newBuilder()
              .setKey(load.key())
              .setArrivals(load.arrivals())
              .setInFlight(load.inFlight())
              .setQueued(load.queued())
              .setHeld(load.held())
              .setPromptTokens(load.promptTokens())
              .setCompletionTokens(load.completionTokens());
      if (!Double.isNaN(load.ttftP50Seconds())) {
        m.setTtftP50Seconds(load.ttftP50Seconds()).setTtftP95Seconds(load.ttftP95Seconds());
      }
      load.lastRequest().ifPresent(t -> m.setLastRequest(timestamp(t)));
      report.addModels(m);
    }
    return report.build();
  }

  private static ModelState.BudgetRefusal toRefusal(BudgetRefusal proto) {
    return new ModelState.BudgetRefusal(
        proto.getBudget(), proto.getNeededBytes(), proto.getFreeBytes(), proto.getMessage());
  }

  private static ModelState.State state(dev.inferencebudget.proto.v1.ModelState.State state) {
    return switch (state) {
      case SCALED_TO_ZERO -> ModelState.State.SCALED_TO_ZERO;
      case COLD_STARTING -> ModelState.State.COLD_STARTING;
      case READY -> ModelState.State.READY;
      case SCALING -> ModelState.State.SCALING;
      case BUDGET_BLOCKED -> ModelState.State.BUDGET_BLOCKED;
      case STATE_UNSPECIFIED, UNRECOGNIZED -> ModelState.State.UNSPECIFIED;
    };
  }

  private static Duration duration(com.google.protobuf.Duration d) {
    return Duration.ofSeconds(d.getSeconds(), d.getNanos());
  }

  private static Timestamp timestamp(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }
}
