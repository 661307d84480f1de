/**
 * The controller's contract with users: the custom resources ({@code v1alpha1}) and the exact
 * conversions of their Kubernetes-style values (quantities, Go duration strings) into the units the
 * rest of the controller works in.
 *
 * <p>Nothing here does I/O or makes decisions; the reconciler converts these types into the
 * decision core's input at its edge.
 */
package dev.inferencebudget.controller.api;
