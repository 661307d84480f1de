/**
 * The OpenAI side of the wire: which paths are inference endpoints, the streaming parse of a
 * request body into only the fields admission needs, OpenAI-style error values, and the incremental
 * scan of a response (JSON or server-sent events) for its {@code usage}.
 */
package dev.inferencebudget.extproc.openai;
