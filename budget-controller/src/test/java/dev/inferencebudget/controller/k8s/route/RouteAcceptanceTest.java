package dev.inferencebudget.controller.k8s.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReferenceBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatusBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

class RouteAcceptanceTest {

  private static final ParentReference GATEWAY_A = parent("gateway-system", "a", null);
  private static final ParentReference GATEWAY_B = parent(null, "b", "https");

  private static ParentReference parent(String namespace, String name, String section) {
    return new ParentReferenceBuilder()
        .withGroup("gateway.networking.k8s.io")
        .withKind("Gateway")
        .withNamespace(namespace)
        .withName(name)
        .withSectionName(section)
        .build();
  }

  private static Condition condition(String type, String status, String reason, long generation) {
    return new ConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withMessage("")
        .withObservedGeneration(generation)
        .build();
  }

  private static RouteParentStatus reported(ParentReference parent, Condition... conditions) {
    return new RouteParentStatusBuilder()
        .withControllerName("example.com/gateway")
        .withParentRef(parent)
        .withConditions(conditions)
        .build();
  }

  private static HTTPRoute route(long generation, RouteParentStatus... parents) {
    return new HTTPRouteBuilder()
        .withNewMetadata()
        .withNamespace("team-a")
        .withName("llama")
        .withGeneration(generation)
        .endMetadata()
        .withNewStatus()
        .withParents(parents)
        .endStatus()
        .build();
  }

  @Test
  void everyRequestedParentAcceptingGivesTrue() {
    HTTPRoute r =
        route(
            2,
            reported(GATEWAY_A, condition("Accepted", "True", "Accepted", 2)),
            reported(
                parent("team-a", "b", "https"),
                condition("Accepted", "True", "Accepted", 2),
                condition("ResolvedRefs", "True", "ResolvedRefs", 2)));

    RouteAcceptance.Verdict v = RouteAcceptance.of(r, List.of(GATEWAY_A, GATEWAY_B));

    assertThat(v.status()).isEqualTo("True");
    assertThat(v.message())
        .contains("Gateway gateway-system/a")
        .contains("Gateway team-a/b listener https");
  }

  @Test
  void aParentThatHasNotReportedOnTheCurrentGenerationLeavesItUnknown() {
    HTTPRoute r =
        route(
            3,
            reported(GATEWAY_A, condition("Accepted", "True", "Accepted", 3)),
            reported(GATEWAY_B, condition("Accepted", "True", "Accepted", 2)));

    RouteAcceptance.Verdict v = RouteAcceptance.of(r, List.of(GATEWAY_A, GATEWAY_B));

    assertThat(v.status()).isEqualTo("Unknown");
    assertThat(v.reason()).isEqualTo("Pending");
    assertThat(v.message()).contains("team-a/b").doesNotContain("gateway-system/a");
  }

  @Test
  void aRefusingParentGivesFalseWithItsReasonEvenWhenAnotherAccepts() {
    HTTPRoute r =
        route(
            1,
            reported(GATEWAY_A, condition("Accepted", "True", "Accepted", 1)),
            reported(GATEWAY_B, condition("Accepted", "False", "NotAllowedByListeners", 1)));

    RouteAcceptance.Verdict v = RouteAcceptance.of(r, List.of(GATEWAY_A, GATEWAY_B));

    assertThat(v.status()).isEqualTo("False");
    assertThat(v.reason()).isEqualTo("NotAllowedByListeners");
  }

  @Test
  void anUnresolvedBackendGivesFalseWithTheResolvedRefsReason() {
    HTTPRoute r =
        route(
            1,
            reported(
                GATEWAY_A,
                condition("Accepted", "True", "Accepted", 1),
                condition("ResolvedRefs", "False", "BackendNotFound", 1)));

    RouteAcceptance.Verdict v = RouteAcceptance.of(r, List.of(GATEWAY_A));

    assertThat(v.status()).isEqualTo("False");
    assertThat(v.reason()).isEqualTo("BackendNotFound");
  }

  @Test
  void aStatusForAnotherListenerOfTheSameGatewayDoesNotCount() {
    HTTPRoute r =
        route(
            1,
            reported(parent("team-a", "b", "http"), condition("Accepted", "True", "Accepted", 1)));

    assertThat(RouteAcceptance.of(r, List.of(GATEWAY_B)).status()).isEqualTo("Unknown");
  }
}
