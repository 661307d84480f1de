/**
 * The contract of the ext_proc server: its configuration, the model table it reads, and the narrow
 * interfaces through which it talks to the controller (activations, load). Plain records and
 * interfaces with no gRPC in them, so the controller link can implement them over {@code
 * ibc.v1.BudgetController} and tests over memory.
 */
package dev.inferencebudget.extproc.api;
