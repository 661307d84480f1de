package dev.inferencebudget.controller.k8s.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteSpec;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteSpecBuilder;
import org.junit.jupiter.api.Test;

class DesiredRoutesTest {

  @Test
  void aRouteWrittenWithoutDefaultsEqualsOneTheApiServerDefaulted() {
    HTTPRouteSpec sparse =
        new HTTPRouteSpecBuilder()
            .addNewParentRef()
            .withName("gw")
            .endParentRef()
            .addNewRule()
            .addNewMatch()
            .addNewHeader()
            .withName("x-ibc-model")
            .withValue("team-a/llama")
            .endHeader()
            .endMatch()
            .addNewBackendRef()
            .withName("llama")
            .withPort(8000)
            .endBackendRef()
            .endRule()
            .build();
    HTTPRouteSpec defaulted =
        new HTTPRouteSpecBuilder()
            .addNewParentRef()
            .withGroup("gateway.networking.k8s.io")
            .withKind("Gateway")
            .withName("gw")
            .endParentRef()
            .addNewRule()
            .addNewMatch()
            .withNewPath()
            .withType("PathPrefix")
            .withValue("/")
            .endPath()
            .addNewHeader()
            .withType("Exact")
            .withName("x-ibc-model")
            .withValue("team-a/llama")
            .endHeader()
            .endMatch()
            .addNewBackendRef()
            .withGroup("")
            .withKind("Service")
            .withWeight(1)
            .withName("llama")
            .withPort(8000)
            .endBackendRef()
            .endRule()
            .build();

    assertThat(sparse).isNotEqualTo(defaulted);
    assertThat(DesiredRoutes.normalized(sparse)).isEqualTo(DesiredRoutes.normalized(defaulted));
  }

  @Test
  void aDifferentBackendPortIsNotNormalizedAway() {
    HTTPRouteSpec a =
        new HTTPRouteSpecBuilder()
            .addNewRule()
            .addNewBackendRef()
            .withName("s")
            .withPort(1)
            .endBackendRef()
            .endRule()
            .build();
    HTTPRouteSpec b =
        new HTTPRouteSpecBuilder()
            .addNewRule()
            .addNewBackendRef()
            .withName("s")
            .withPort(2)
            .endBackendRef()
            .endRule()
            .build();

    assertThat(DesiredRoutes.normalized(a)).isNotEqualTo(DesiredRoutes.normalized(b));
  }
}
