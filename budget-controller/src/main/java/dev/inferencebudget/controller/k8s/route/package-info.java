/**
 * Gateway API HTTPRoutes for BudgetedModels that ask for one ({@code spec.route}): the desired
 * route as a value ({@link dev.inferencebudget.controller.k8s.route.DesiredRoutes}), route
 * acceptance read from the route's {@code status.parents} into the model's {@code RouteAccepted}
 * condition ({@link dev.inferencebudget.controller.k8s.route.RouteAcceptance}), and the shell that
 * creates, updates and deletes the routes ({@link
 * dev.inferencebudget.controller.k8s.route.HttpRouteReconciler}).
 */
package dev.inferencebudget.controller.k8s.route;
