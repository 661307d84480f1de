package dev.inferencebudget.xds.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class XdsConfigTest {

  @Test
  void defaultsAreValid() {
    assertThat(XdsConfig.defaults().validate()).isEqualTo(XdsConfig.defaults());
    assertThat(
            XdsConfig.defaults()
                .withStandaloneListener(XdsConfig.StandaloneListener.defaults().withEnabled(true))
                .validate())
        .isNotNull();
  }

  @Test
  void routeIdleTimeoutNotLongerThanTheLongestHoldIsRejectedByName() {
    XdsConfig d = XdsConfig.defaults();
    XdsConfig config =
        new XdsConfig(
            d.bindAddress(),
            d.port(),
            d.routeConfigName(),
            d.routingHeader(),
            d.clusterConnectTimeout(),
            d.upstreamProtocol(),
            d.lbPolicy(),
            d.maxRequestsPerCluster(),
            Duration.ofSeconds(900),
            Duration.ofSeconds(900),
            d.withoutEnvoys(),
            d.standaloneListener());
    assertThatThrownBy(config::validate)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("routeIdleTimeout = PT15M, must be longer than longestHold = PT15M");
  }

  @Test
  void holdLongerThanEnvoysCapAndShortStreamIdleTimeoutAreBothReported() {
    XdsConfig d = XdsConfig.defaults();
    XdsConfig config =
        new XdsConfig(
            d.bindAddress(),
            -1,
            d.routeConfigName(),
            "X-Model",
            d.clusterConnectTimeout(),
            d.upstreamProtocol(),
            d.lbPolicy(),
            d.maxRequestsPerCluster(),
            Duration.ofHours(5),
            Duration.ofHours(2),
            d.withoutEnvoys(),
            XdsConfig.StandaloneListener.defaults().withEnabled(true));
    assertThatThrownBy(config::validate)
        .hasMessageContaining("port = -1")
        .hasMessageContaining("routingHeader = \"X-Model\"")
        .hasMessageContaining("longestHold = PT2H, must be at most PT1H")
        .hasMessageContaining("standaloneListener.streamIdleTimeout = PT30M");
  }

  @Test
  void modelKeyMustBeNamespaceSlashName() {
    assertThatThrownBy(() -> new ModelEndpoints("llama", List.of()))
        .hasMessageContaining("modelKey = \"llama\"");
    assertThatThrownBy(() -> new ModelEndpoints("Team/llama", List.of()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(new ModelEndpoints("team-a/llama-3.1-8b", List.of()).modelKey())
        .isEqualTo("team-a/llama-3.1-8b");
  }

  @Test
  void endpointHostnameIsRejectedBecauseEnvoyNeedsAnIp() {
    assertThatThrownBy(() -> Endpoint.ready("vllm-0.default.svc", 8000))
        .hasMessageContaining("must be an IP address");
    assertThat(Endpoint.ready("fd00::1", 8000).address()).isEqualTo("fd00::1");
  }

  @Test
  void endpointPortOutOfRangeIsRejected() {
    assertThatThrownBy(() -> Endpoint.ready("10.0.0.1", 0)).hasMessageContaining("port = 0");
  }
}
