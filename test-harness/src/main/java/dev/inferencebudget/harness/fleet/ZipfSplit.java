package dev.inferencebudget.harness.fleet;

import java.util.SplittableRandom;

/**
 * Splits a trace across {@code models} models by a seeded Zipf draw per request: model {@code i}
 * (0-based) gets a request with probability proportional to {@code 1 / (i + 1)^exponent}, so model
 * 0 is the most popular.
 *
 * <p>Hand-written (an inverse-CDF lookup over K ranks) because no dependency of the project has a
 * Zipf sampler and Apache Commons Math would be a large dependency for ten lines; the draw must
 * also be reproducible from the seed alone, which {@link SplittableRandom} guarantees across JDK
 * versions.
 */
public record ZipfSplit(int models, double exponent, long seed) {
  public ZipfSplit {
    if (models < 1) {
      throw new IllegalArgumentException("models = " + models + ", must be >= 1");
    }
    if (!(exponent >= 0) || Double.isInfinite(exponent)) {
      throw new IllegalArgumentException("zipf-s = " + exponent + ", must be a finite number >= 0");
    }
  }

  /** The probability of each model, by rank. */
  public double[] probabilities() {
    double[] weights = new double[models];
    double total = 0;
    for (int i = 0; i < models; i++) {
      weights[i] = 1.0 / Math.pow(i + 1, exponent);
      total += weights[i];
    }
    for (int i = 0; i < models; i++) {
      weights[i] /= total;
    }
    return weights;
  }

  /**
   * Draws the model of each of {@code requests} requests, in trace order; same seed, same answer.
   */
  public int[] assign(int requests) {
    double[] probabilities = probabilities();
    double[] cumulative = new double[models];
    double sum = 0;
    for (int i = 0; i < models; i++) {
      sum += probabilities[i];
      cumulative[i] = sum;
    }
    SplittableRandom random = new SplittableRandom(seed);
    int[] assignment = new int[requests];
    for (int r = 0; r < requests; r++) {
      double u = random.nextDouble() * sum;
      int model = 0;
      while (model < models - 1 && u >= cumulative[model]) {
        model++;
      }
      assignment[r] = model;
    }
    return assignment;
  }
}
