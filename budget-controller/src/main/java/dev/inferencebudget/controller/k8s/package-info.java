/**
 * The Kubernetes shell around the decision core: informer caches in, the decision core's output
 * applied out (Deployment scale subresource, status subresources, Events), leader election, the xDS
 * feed and the model-state stream to ext-proc. {@link
 * dev.inferencebudget.controller.k8s.BudgetController} is the facade a process (or a test) starts.
 */
package dev.inferencebudget.controller.k8s;
