package dev.inferencebudget.controller.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class GoDurationsTest {

  @ParameterizedTest(name = "{0} is {1}")
  @CsvSource({
    "10m, PT10M",
    "90s, PT1M30S",
    "1h30m, PT1H30M",
    "250ms, PT0.25S",
    "0s, PT0S",
    "1h0m0s, PT1H",
    "5us, PT0.000005S"
  })
  void parsesGoDurations(String text, Duration expected) {
    assertThat(GoDurations.parse(text, "spec.scaleToZero.idleTimeout")).isEqualTo(expected);
  }

  /**
   * fabric8's parser reads "1.5h" as five hours and "-5s" as five seconds, and Go has no "d": the
   * pattern keeps all of them out.
   */
  @ParameterizedTest(name = "{0} is refused")
  @ValueSource(strings = {"1.5h", "-5s", "2d", "10 minutes", "10", "", "m", "PT10M"})
  void refusesWhatFabric8WouldMisreadOrGoWouldNotAccept(String text) {
    assertThatThrownBy(() -> GoDurations.parse(text, "spec.scaleToZero.idleTimeout"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "spec.scaleToZero.idleTimeout = " + text + ", must be a Go duration");
  }
}
