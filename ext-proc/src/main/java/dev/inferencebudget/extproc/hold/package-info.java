/**
 * Cold starts: requests for a model with no routable replica are held while the controller starts
 * one (one activation per cold spell), and released the moment the model table says the model is
 * routable; refused on hold timeout, when too many are held, or when the budget refuses.
 */
package dev.inferencebudget.extproc.hold;
