package dev.inferencebudget.harness.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ZipfSplitTest {
  @Test
  void the_same_seed_deals_the_same_models() {
    assertThat(new ZipfSplit(8, 1.0, 42).assign(10_000))
        .isEqualTo(new ZipfSplit(8, 1.0, 42).assign(10_000));
  }

  @Test
  void another_seed_deals_differently() {
    assertThat(new ZipfSplit(8, 1.0, 42).assign(1_000))
        .isNotEqualTo(new ZipfSplit(8, 1.0, 43).assign(1_000));
  }

  @Test
  void a_known_seed_gives_a_known_prefix() {
    // Pins the draw: a change here changes every published figure, so it must be deliberate.
    assertThat(new ZipfSplit(4, 1.0, 1).assign(12)).containsExactly(PINNED_PREFIX);
  }

  @Test
  void probabilities_fall_as_one_over_rank_to_the_s() {
    assertThat(new ZipfSplit(2, 1.0, 0).probabilities())
        .containsExactly(new double[] {2.0 / 3, 1.0 / 3}, within(1e-12));
    assertThat(new ZipfSplit(3, 0.0, 0).probabilities())
        .containsExactly(new double[] {1.0 / 3, 1.0 / 3, 1.0 / 3}, within(1e-12));
  }

  @Test
  void dealt_shares_match_the_probabilities() {
    ZipfSplit split = new ZipfSplit(8, 1.2, 7);
    int[] assignment = split.assign(200_000);
    int[] counts = new int[8];
    for (int model : assignment) {
      counts[model]++;
    }
    double[] probabilities = split.probabilities();
    for (int m = 0; m < 8; m++) {
      assertThat((double) counts[m] / assignment.length).isCloseTo(probabilities[m], within(0.005));
    }
  }

  @Test
  void zero_models_is_refused() {
    assertThatThrownBy(() -> new ZipfSplit(0, 1.0, 1)).hasMessageContaining("models = 0");
  }

  private static final int[] PINNED_PREFIX = {1, 2, 3, 0, 0, 2, 2, 1, 0, 2, 0, 1};
}
