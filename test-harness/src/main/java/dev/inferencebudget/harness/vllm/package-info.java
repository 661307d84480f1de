/**
 * A vLLM simulator: an OpenAI-compatible HTTP server that behaves like vLLM's OpenAI server where
 * the rest of the system can tell (endpoints, response and chunk shapes, error shape, {@code
 * /health}, {@code /metrics} names, sleep mode), with a timing model instead of a GPU.
 *
 * <p>The timing model ({@link dev.inferencebudget.harness.vllm.InferenceEngine}) knows nothing of
 * HTTP: requests take prefill time (prompt tokens at a prefill speed), then produce output tokens
 * at a decode speed, at most {@code maxNumSeqs} sequences at once; the rest wait, as in vLLM's
 * scheduler. Time comes from a {@link dev.inferencebudget.harness.vllm.SimulationScheduler}, so
 * tests can run it on a manual clock. {@link dev.inferencebudget.harness.vllm.VllmSimulator} is the
 * Vert.x HTTP shell around it.
 *
 * <p>Entry point: {@link dev.inferencebudget.harness.vllm.VllmSimulator#start}. See {@code
 * docs/vllm-simulator.md}.
 */
package dev.inferencebudget.harness.vllm;
