/**
 * The ext-proc edge of the controller link: conversions between the {@code ibc.v1} messages and the
 * {@code api} records, so the gRPC client that implements {@code ModelStateSource}, {@code
 * ControllerLink} and load reporting does no interpretation of its own.
 */
package dev.inferencebudget.extproc.link;
