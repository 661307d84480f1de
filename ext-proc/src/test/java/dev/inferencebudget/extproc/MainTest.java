package dev.inferencebudget.extproc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.extproc.api.ExtProcConfig;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MainTest {
  @Test
  void environmentOverridesDefaultsKeyByKey() {
    ExtProcConfig config =
        Main.fromEnvironment(
            Map.of(
                "IBC_EXTPROC_GRPC_PORT", "19002",
                "IBC_EXTPROC_ROUTING_MODE", "ENDPOINT_PICKER",
                "IBC_EXTPROC_MAX_MESSAGE_TIMEOUT_SECONDS", "600",
                "IBC_EXTPROC_REPLICA", "ext-proc-7"));
    assertThat(config.grpcPort()).isEqualTo(19002);
    assertThat(config.routingMode()).isEqualTo(ExtProcConfig.RoutingMode.ENDPOINT_PICKER);
    assertThat(config.holdOverrideTimeout()).isEqualTo(Duration.ofSeconds(600));
    assertThat(config.replicaName()).isEqualTo("ext-proc-7");
    assertThat(config.metricsPort()).isEqualTo(ExtProcConfig.defaults().metricsPort());
    assertThat(Main.fromEnvironment(Map.of())).isEqualTo(ExtProcConfig.defaults());
  }
}
