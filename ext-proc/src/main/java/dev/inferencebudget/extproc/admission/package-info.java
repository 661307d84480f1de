/**
 * Tenant rates: token buckets per tenant key and model for tokens and requests per minute, charged
 * at admission (before the request is forwarded) and settled with the usage the backend reports.
 */
package dev.inferencebudget.extproc.admission;
