/** Prometheus metrics of the controller (client_java 1.x, registered on a registry passed in). */
package dev.inferencebudget.controller.metrics;
