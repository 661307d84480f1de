/**
 * The controller process's configuration: one immutable {@link
 * dev.inferencebudget.controller.config.ControllerConfig} with every default in one literal and a
 * validation that names the offending key.
 */
package dev.inferencebudget.controller.config;
