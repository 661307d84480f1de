package dev.inferencebudget.extproc.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ExtProcConfigTest {
  @Test
  void defaultsAreValid() {
    assertThat(ExtProcConfig.defaults().problems()).isEmpty();
    assertThat(ExtProcConfig.defaults().routingHeader()).isEqualTo("x-ibc-model");
  }

  @Test
  void overrideLongerThanEnvoysMaximumIsRejectedNamingBothKeys() {
    ExtProcConfig config =
        ExtProcConfig.defaults().withTimeouts(Duration.ofSeconds(60), Duration.ofSeconds(90));
    assertThatThrownBy(config::validate)
        .hasMessageContaining("holdOverrideTimeout = PT1M30S")
        .hasMessageContaining("maxMessageTimeout = PT1M");
  }

  @Test
  void maxMessageTimeoutAboveEnvoysCapIsRejected() {
    ExtProcConfig config =
        ExtProcConfig.defaults().withTimeouts(Duration.ofSeconds(3601), Duration.ofSeconds(10));
    assertThat(config.problems()).anyMatch(p -> p.startsWith("maxMessageTimeout"));
  }

  @Test
  void badPortsAndBodyLimitAreNamed() {
    assertThat(ExtProcConfig.defaults().withGrpcPort(70000).problems())
        .anyMatch(p -> p.startsWith("grpcPort = 70000"));
    assertThat(ExtProcConfig.defaults().withMaxRequestBodyBytes(10).problems())
        .anyMatch(p -> p.startsWith("maxRequestBodyBytes = 10"));
    assertThat(ExtProcConfig.defaults().withPriorityHeader("X Bad").problems())
        .anyMatch(p -> p.startsWith("priorityHeader"));
  }
}
