/** Benchmarks run as main classes; each prints its figures and the command that produced them. */
package dev.inferencebudget.harness.bench;
