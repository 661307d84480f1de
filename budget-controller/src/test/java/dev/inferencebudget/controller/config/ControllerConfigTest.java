package dev.inferencebudget.controller.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.inferencebudget.controller.Main;
import java.time.Duration;
import java.util.Map;
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

  @Test
  void theGpuSizeComesFromTheEnvironmentAsAQuantityAndABadOneIsRejectedNamingTheVariable() {
    assertThat(Main.fromEnvironment(Map.of()).gpuObservation().gpuMemoryPerDeviceBytes())
        .isEqualTo(80L << 30);
    assertThat(
            Main.fromEnvironment(Map.of(Main.GPU_MEMORY_PER_DEVICE_ENV, "141Gi"))
                .gpuObservation()
                .gpuMemoryPerDeviceBytes())
        .isEqualTo(141L << 30);
    assertThat(
            Main.fromEnvironment(Map.of(Main.GPU_MEMORY_PER_DEVICE_ENV, "48G"))
                .gpuObservation()
                .gpuMemoryPerDeviceBytes())
        .isEqualTo(48_000_000_000L);
    for (String bad : new String[] {"80 GB", "-1Gi", "0.5"}) {
      var e =
          assertThrows(
              IllegalArgumentException.class,
              () -> Main.fromEnvironment(Map.of(Main.GPU_MEMORY_PER_DEVICE_ENV, bad)));
      assertThat(e.getMessage()).as(bad).contains(Main.GPU_MEMORY_PER_DEVICE_ENV);
    }
    var zero =
        assertThrows(
            IllegalArgumentException.class,
            () -> Main.fromEnvironment(Map.of(Main.GPU_MEMORY_PER_DEVICE_ENV, "0")).validate());
    assertThat(zero.getMessage()).startsWith("gpuObservation.gpuMemoryPerDeviceBytes = 0");
  }
}
