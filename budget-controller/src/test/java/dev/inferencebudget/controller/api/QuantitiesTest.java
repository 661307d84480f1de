package dev.inferencebudget.controller.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Quantity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class QuantitiesTest {

  @ParameterizedTest(name = "{0} is exactly {1} bytes")
  @CsvSource({
    "24Gi, 25769803776",
    "80G, 80000000000",
    "1.5Gi, 1610612736",
    "160Gi, 171798691840",
    "0.5Ki, 512",
    "1000, 1000",
    "1e3, 1000",
    "1Pi, 1125899906842624",
    "8191Pi, 9222246136947933184",
    "1E, 1000000000000000000",
    "0, 0"
  })
  void convertsQuantitiesToExactByteCounts(String quantity, long bytes) {
    assertThat(Quantities.toBytes(new Quantity(quantity), "spec.gpuMemory")).isEqualTo(bytes);
  }

  @Test
  void threeTimes24GiFitExactlyIn72Gi() {
    long perReplica = Quantities.toBytes(new Quantity("24Gi"), "spec.gpuMemoryPerReplica");
    assertThat(3 * perReplica)
        .isEqualTo(Quantities.toBytes(new Quantity("72Gi"), "spec.gpuMemory"));
  }

  @ParameterizedTest(name = "{0} is refused: {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "0.5 | spec.gpuMemory = 0.5, must be a whole number of bytes, but is 0.5 bytes",
        "1.3Gi | spec.gpuMemory = 1.3Gi, must be a whole number of bytes, but is 1395864371.2 bytes",
        "100m | spec.gpuMemory = 100m, must be a whole number of bytes, but is 0.1 bytes",
        "-1Gi | spec.gpuMemory = -1Gi, must not be negative",
        "1Ei | spec.gpuMemory = 1Ei, the Ei suffix is not supported",
        "9000Pi | spec.gpuMemory = 9000Pi, is too large",
      })
  void refusesWhatIsNotAWholeNonNegativeNumberOfBytes(String quantity, String message) {
    assertThatThrownBy(() -> Quantities.toBytes(new Quantity(quantity), "spec.gpuMemory"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(message);
  }

  @Test
  void refusesMalformedQuantitiesNamingTheField() {
    assertThatThrownBy(() -> Quantities.toBytes(new Quantity("lots"), "spec.gpuMemoryPerReplica"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("spec.gpuMemoryPerReplica = lots, must be a Kubernetes quantity");
  }

  @ParameterizedTest(name = "{0} bytes print as {1}")
  @CsvSource({
    "25769803776, 24Gi",
    "171798691840, 160Gi",
    "1610612736, 1536Mi",
    "80000000000, 78125000Ki",
    "1000, 1000",
    "0, 0",
    "1125899906842624, 1Pi"
  })
  void printsByteCountsInTheLargestExactBinaryUnit(long bytes, String quantity) {
    assertThat(Quantities.ofBytes(bytes).toString()).isEqualTo(quantity);
    assertThat(Quantities.toBytes(Quantities.ofBytes(bytes), "status")).isEqualTo(bytes);
  }
}
