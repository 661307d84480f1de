package dev.inferencebudget.controller.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferencebudget.controller.api.v1alpha1.AdaptiveKeepAlive;
import dev.inferencebudget.controller.api.v1alpha1.IdleGapHistogram;
import dev.inferencebudget.controller.api.v1alpha1.ScaleToZero;
import dev.inferencebudget.controller.decision.KeepAliveHistogram;
import dev.inferencebudget.controller.decision.KeepAlivePolicy;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code spec.scaleToZero} to the decision core's keep-alive, and the learned histogram to and from
 * {@code status.idleGaps}, at any time scale of the adaptive histogram.
 */
class EdgeConversionKeepAliveTest {

  private static final dev.inferencebudget.controller.api.v1alpha1.KeepAlivePolicy ADAPTIVE =
      dev.inferencebudget.controller.api.v1alpha1.KeepAlivePolicy.ADAPTIVE;

  @Test
  void adaptiveWithoutATimeScaleIsThePapersPolicyWithIdleTimeoutAsFallback() {
    KeepAlivePolicy policy = EdgeConversion.keepAlive(new ScaleToZero("30m", ADAPTIVE));

    assertThat(policy).isEqualTo(KeepAlivePolicy.Adaptive.defaults(Duration.ofMinutes(30)));
  }

  @Test
  void adaptiveTakesBucketWidthAndRangeFromTheSpecAndEverythingElseFromThePaper() {
    KeepAlivePolicy policy =
        EdgeConversion.keepAlive(
            new ScaleToZero("5s", ADAPTIVE, new AdaptiveKeepAlive("1s", "4m")));

    KeepAlivePolicy.Adaptive paper = KeepAlivePolicy.Adaptive.defaults(Duration.ofSeconds(5));
    assertThat(policy)
        .isEqualTo(
            new KeepAlivePolicy.Adaptive(
                Duration.ofSeconds(5),
                Duration.ofMinutes(4),
                Duration.ofSeconds(1),
                paper.minSamples(),
                paper.keepAlivePercentile(),
                paper.prewarmPercentile(),
                paper.prewarm(),
                paper.marginPercent(),
                paper.minBucketCountCv(),
                paper.maxOutOfBoundsPercent()));
  }

  @Test
  void aBucketWidthFinerThanAMillisecondIsCountedInWholeMilliseconds() {
    KeepAlivePolicy.Adaptive policy =
        (KeepAlivePolicy.Adaptive)
            EdgeConversion.keepAlive(
                new ScaleToZero("10s", ADAPTIVE, new AdaptiveKeepAlive("16666us", "240s")));

    assertThat(policy.bucketWidth()).isEqualTo(Duration.ofMillis(16));
  }

  @Test
  void fixedIgnoresTheAdaptiveTimeScale() {
    KeepAlivePolicy policy =
        EdgeConversion.keepAlive(
            new ScaleToZero(
                "10m",
                dev.inferencebudget.controller.api.v1alpha1.KeepAlivePolicy.FIXED,
                new AdaptiveKeepAlive("1ms", "1000h")));

    assertThat(policy).isEqualTo(new KeepAlivePolicy.Fixed(Duration.ofMinutes(10)));
  }

  @ParameterizedTest(name = "bucketWidth {0} over {1}: {2}")
  @CsvSource(
      delimiter = '|',
      value = {
        "999us | 4h | spec.scaleToZero.adaptive.bucketWidth = 999us, must be at least 1ms",
        "1m | 30s | spec.scaleToZero.adaptive.histogramRange = 30s, must be at least bucketWidth",
        "1s | 48h | spec.scaleToZero.adaptive.histogramRange = 48h is 172800 buckets of"
            + " bucketWidth 1s, must be at most 100000",
        "1m | 1.5h | spec.scaleToZero.adaptive.histogramRange = 1.5h, must be a Go duration"
      })
  void anUnusableTimeScaleIsRefusedNamingTheField(
      String bucketWidth, String histogramRange, String message) {
    ScaleToZero spec =
        new ScaleToZero("10m", ADAPTIVE, new AdaptiveKeepAlive(bucketWidth, histogramRange));

    // The reconciler turns this into SpecValid=False, reason InvalidSpec, with this message.
    assertThatThrownBy(() -> EdgeConversion.keepAlive(spec))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(message);
  }

  @ParameterizedTest(name = "{0} ms buckets")
  @CsvSource({"60000, 60, ", "1000, 1, ", "500, , 500", "1500, , 1500"})
  void aLearnedHistogramSurvivesStatusAtItsExactWidth(
      long widthMillis, Long expectedSeconds, Long expectedMillis) {
    KeepAliveHistogram learned =
        new KeepAliveHistogram(Duration.ofMillis(widthMillis), new long[240], 2)
            .record(Duration.ofMillis(widthMillis * 3 + 1))
            .record(Duration.ofMillis(widthMillis * 3 + 2));

    IdleGapHistogram status = EdgeConversion.idleGaps(learned);

    assertThat(status.bucketWidthSeconds()).isEqualTo(expectedSeconds);
    assertThat(status.bucketWidthMillis()).isEqualTo(expectedMillis);
    assertThat(status.buckets()).isEqualTo(240);
    assertThat(status.counts()).isEqualTo(Map.of("3", 2L));
    assertThat(EdgeConversion.keepAliveHistogram(status)).contains(learned);
  }

  @Test
  void aStatusWrittenBeforeSubSecondWidthsIsReadInSeconds() {
    IdleGapHistogram old = new IdleGapHistogram(60L, 240, Map.of("2", 12L), 1L);

    KeepAliveHistogram read = EdgeConversion.keepAliveHistogram(old).orElseThrow();

    assertThat(read.bucketWidth()).isEqualTo(Duration.ofMinutes(1));
    assertThat(read.counts()).hasSize(240);
    assertThat(read.inRange()).isEqualTo(12);
    assertThat(read.outOfBounds()).isEqualTo(1);
  }

  @Test
  void aStatusWithoutAWidthIsNotGuessedAt() {
    assertThat(
            EdgeConversion.keepAliveHistogram(
                new IdleGapHistogram(null, 240, Map.of("2", 12L), 0L, null)))
        .isEmpty();
  }
}
