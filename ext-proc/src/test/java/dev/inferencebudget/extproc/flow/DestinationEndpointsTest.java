package dev.inferencebudget.extproc.flow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.extproc.api.ModelState.Endpoint;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class DestinationEndpointsTest {

  @Test
  void thePickComesFirstThenTheOtherReadyEndpointsByFewestInFlight() {
    List<Endpoint> ready =
        List.of(
            new Endpoint("10.0.0.1:8000", true, "a"),
            new Endpoint("10.0.0.2:8000", true, "b"),
            new Endpoint("10.0.0.3:8000", true, "c"));

    List<String> out =
        DestinationEndpoints.ordered(
            "10.0.0.2:8000", ready, Map.of("10.0.0.1:8000", 5, "10.0.0.3:8000", 1));

    assertThat(out).containsExactly("10.0.0.2:8000", "10.0.0.3:8000", "10.0.0.1:8000");
  }

  @Test
  void endpointsThatAreNotReadyAreNeverFallbacks() {
    List<Endpoint> endpoints =
        List.of(
            new Endpoint("10.0.0.1:8000", true, "a"), new Endpoint("10.0.0.9:8000", false, "z"));

    assertThat(DestinationEndpoints.ordered("10.0.0.1:8000", endpoints, Map.of()))
        .containsExactly("10.0.0.1:8000");
  }

  @Test
  void aLargeModelListsAtMostFourAddressesInTheControllersOrderOnEqualLoad() {
    List<Endpoint> ready =
        IntStream.rangeClosed(1, 10)
            .mapToObj(i -> new Endpoint("10.0.0." + i + ":8000", true, "p" + i))
            .toList();

    assertThat(DestinationEndpoints.ordered("10.0.0.7:8000", ready, Map.of()))
        .containsExactly("10.0.0.7:8000", "10.0.0.1:8000", "10.0.0.2:8000", "10.0.0.3:8000");
  }
}
