/**
 * In-process implementations of the {@code api} interfaces: a model table held in memory (tests,
 * the Envoy stand-in, static single-host setups), a controller link answered in memory, and the
 * executor-backed scheduler used in production.
 */
package dev.inferencebudget.extproc.local;
