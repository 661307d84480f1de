package dev.inferencebudget.controller.api.v1alpha1;

/**
 * Regular expressions of the CRD schema (RE2 and Java compatible, no backslashes so they read the
 * same in CEL).
 */
public final class Patterns {

  /** A DNS-1123 subdomain, the name format of Deployments and of these resources. */
  public static final String DNS_SUBDOMAIN =
      "^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

  /** A DNS-1123 label, the format of namespaces. */
  public static final String DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

  /** A local time of day, {@code HH:MM} on a 24-hour clock. */
  public static final String LOCAL_TIME = "^([01][0-9]|2[0-3]):[0-5][0-9]$";

  /** An HTTP header name in lower case, as Envoy presents headers to ext_proc. */
  public static final String HEADER_NAME = "^[a-z0-9!#$%&'*+.^_`|~-]+$";

  /**
   * An OpenAI {@code model} value: visible ASCII without spaces (it may contain {@code /} and
   * {@code :}).
   */
  public static final String MODEL_NAME = "^[!-~]+$";

  /** An IANA time-zone name such as {@code Europe/Berlin} or {@code UTC}. */
  public static final String TIME_ZONE = "^[A-Za-z][A-Za-z0-9_+/-]*$";

  private Patterns() {}
}
