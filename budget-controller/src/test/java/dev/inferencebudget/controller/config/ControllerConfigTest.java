package dev.inferencebudget.controller.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ControllerConfigTest {

  @Test
  void defaultsAreValidAndUseTheDocumentedPorts() {
    ControllerConfig c = ControllerConfig.defaults().validate();
    assertThat(c.xdsPort()).isEqualTo(18000);
    assertThat(c.namespaces()).isEmpty();
    assertThat(c.leaderElection().enabled()).isTrue();
  }

  @Test
  void aRenewDeadlineNotShorterThanTheLeaseIsRejectedNamingTheKey() {
    ControllerConfig c =
        ControllerConfig.defaults()
            .withLeaderElection(
                ControllerConfig.defaults()
                    .leaderElection()
                    .withTimings(
                        Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofSeconds(1)));
    var e = assertThrows(IllegalArgumentException.class, c::validate);
    assertThat(e.getMessage()).startsWith("leaderElection.renewDeadline = PT10S");
  }

  @Test
  void aPortOutOfRangeIsRejectedNamingTheKey() {
    ControllerConfig c = ControllerConfig.defaults().withPorts("127.0.0.1", 18000, 70000, 0);
    var e = assertThrows(IllegalArgumentException.class, c::validate);
    assertThat(e.getMessage()).isEqualTo("linkApiPort = 70000, must be in [0, 65535]");
  }

  @Test
  void aDebounceNotShorterThanTheTickIsRejected() {
    ControllerConfig c =
        ControllerConfig.defaults().withTiming(Duration.ofSeconds(5), Duration.ofSeconds(5));
    var e = assertThrows(IllegalArgumentException.class, c::validate);
    assertThat(e.getMessage()).startsWith("debounce = PT5S");
  }
}
