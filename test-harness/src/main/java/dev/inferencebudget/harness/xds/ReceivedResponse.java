package dev.inferencebudget.harness.xds;

import java.util.List;
import java.util.Objects;

/**
 * One DiscoveryResponse the client processed, and how it answered.
 *
 * @param typeUrl resource type
 * @param versionInfo the response's version_info
 * @param nonce the response's nonce
 * @param resourceNames names of the resources it carried, in order
 * @param accepted true if ACKed, false if NACKed
 * @param errorDetail the NACK's error message ("" for an ACK)
 * @param handledNanos {@link System#nanoTime()} when the response was parsed and accepted or
 *     rejected; the listeners apply it next and then the ACK/NACK is sent, as Envoy does
 */
public record ReceivedResponse(
    String typeUrl,
    String versionInfo,
    String nonce,
    List<String> resourceNames,
    boolean accepted,
    String errorDetail,
    long handledNanos) {
  public ReceivedResponse {
    Objects.requireNonNull(typeUrl, "typeUrl");
    Objects.requireNonNull(versionInfo, "versionInfo");
    Objects.requireNonNull(nonce, "nonce");
    resourceNames = List.copyOf(resourceNames);
    Objects.requireNonNull(errorDetail, "errorDetail");
  }
}
