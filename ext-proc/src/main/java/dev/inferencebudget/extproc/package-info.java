/**
 * The Envoy external processor: OpenAI parsing, token accounting, admission, queueing, cold-start
 * holding.
 */
package dev.inferencebudget.extproc;
