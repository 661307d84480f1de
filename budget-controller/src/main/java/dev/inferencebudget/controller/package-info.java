/** The budget controller: custom resources, the pure decision core and its Kubernetes shell. */
package dev.inferencebudget.controller;
