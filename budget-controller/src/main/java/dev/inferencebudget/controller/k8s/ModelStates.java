package dev.inferencebudget.controller.k8s;

import dev.inferencebudget.controller.api.v1alpha1.Admission;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModelSpec;
import dev.inferencebudget.controller.api.v1alpha1.TokenizerType;
import dev.inferencebudget.controller.decision.ModelState;
import dev.inferencebudget.controller.link.ActivationHandler;
import dev.inferencebudget.proto.v1.AdmissionPolicy;
import dev.inferencebudget.proto.v1.BudgetRefusal;
import dev.inferencebudget.proto.v1.ColdStartPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Maps one model of a cycle to the proto {@code ModelState} ext-proc receives. */
final class ModelStates {

  private ModelStates() {}

  static dev.inferencebudget.proto.v1.ModelState toProto(
      ModelView v,
      ModelState state,
      Optional<ActivationHandler.Refusal> refusal,
      boolean routable,
      int readyReplicas) {
    var b =
        dev.inferencebudget.proto.v1.ModelState.newBuilder()
            .setKey(v.key())
            .setState(state(state))
            .setRoutable(routable)
            .setReadyReplicas(readyReplicas);
    BudgetedModelSpec spec = v.resource().getSpec();
    if (spec != null) {
      // A model name another model claimed first is not routed here.
      List<String> names = new ArrayList<>(spec.modelNames());
      for (String conflict : v.conflictingNames()) {
        names.remove(conflict.substring(0, conflict.indexOf(" (claimed by ")));
      }
      b.addAllModelNames(names);
      b.setPriority(spec.priority());
      b.setTargetInFlightPerReplica(spec.scaling().targetInFlightPerReplica());
      b.setAdmission(admission(spec.admission()));
      try {
        b.setColdStart(
            ColdStartPolicy.newBuilder()
                .setHoldTimeout(duration(spec.coldStart().holdTimeoutDuration()))
                .setMaxHeldRequests(spec.coldStart().maxHeldRequests()));
      } catch (IllegalArgumentException e) {
        // An invalid holdTimeout is reported by the SpecValid condition; ext-proc uses its default.
      }
    }
    for (var e : v.endpoints()) {
      b.addEndpoints(
          dev.inferencebudget.proto.v1.Endpoint.newBuilder()
              .setAddress(e.address() + ":" + e.port())
              .setReady(e.ready()));
    }
    refusal.ifPresent(
        r ->
            b.setBudgetRefusal(
                BudgetRefusal.newBuilder()
                    .setBudget(r.budgetKey())
                    .setNeededBytes(r.neededBytes())
                    .setFreeBytes(r.freeBytes())
                    .setMessage(r.message())));
    return b.build();
  }

  private static AdmissionPolicy admission(Admission a) {
    var b =
        AdmissionPolicy.newBuilder()
            .setMaxTokensPolicy(a.maxTokensPolicy() == null ? "" : a.maxTokensPolicy().name())
            .setTenantHeader(a.tenantHeader())
            .setQueueLength(a.queueLength());
    if (a.maxPromptTokens() != null) {
      b.setMaxPromptTokens(a.maxPromptTokens());
    }
    if (a.maxCompletionTokens() != null) {
      b.setMaxCompletionTokens(a.maxCompletionTokens());
    }
    if (a.tokensPerMinute() != null) {
      b.setTokensPerMinute(a.tokensPerMinute());
    }
    if (a.requestsPerMinute() != null) {
      b.setRequestsPerMinute(a.requestsPerMinute());
    }
    // Absent stays 0 on the wire: ext-proc's default cost.
    if (a.imageTokens() != null) {
      b.setImageTokens(a.imageTokens());
    }
    if (a.audioTokens() != null) {
      b.setAudioTokens(a.audioTokens());
    }
    try {
      b.setQueueWait(duration(a.queueWaitDuration()));
    } catch (IllegalArgumentException e) {
      // Reported by the SpecValid condition.
    }
    var t = a.tokenizer();
    if (t != null) {
      b.setTokenizer(
          t.type() == TokenizerType.HUGGING_FACE
              ? "huggingface:" + t.path()
              : "tiktoken:" + t.encoding().name().toLowerCase(java.util.Locale.ROOT));
    }
    return b.build();
  }

  private static com.google.protobuf.Duration duration(Duration d) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(d.getSeconds())
        .setNanos(d.getNano())
        .build();
  }

  private static dev.inferencebudget.proto.v1.ModelState.State state(ModelState s) {
    return switch (s) {
      case SCALED_TO_ZERO -> dev.inferencebudget.proto.v1.ModelState.State.SCALED_TO_ZERO;
      case COLD_STARTING -> dev.inferencebudget.proto.v1.ModelState.State.COLD_STARTING;
      case READY -> dev.inferencebudget.proto.v1.ModelState.State.READY;
      case SCALING -> dev.inferencebudget.proto.v1.ModelState.State.SCALING;
      case BUDGET_BLOCKED -> dev.inferencebudget.proto.v1.ModelState.State.BUDGET_BLOCKED;
    };
  }
}
