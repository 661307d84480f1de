package dev.inferencebudget.controller.k8s;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a controller replica's link API listens, from its leader-election identity (the Lease's
 * {@code holderIdentity}).
 */
@FunctionalInterface
public interface LeaderAddresses {

  Optional<InetSocketAddress> resolve(String identity);

  /**
   * The identity is the pod name ({@code POD_NAME}; the chart sets it): the Pod's IP in the Lease's
   * namespace and the link API port every replica shares. Reads the Pod directly (only on a leader
   * change), so it needs {@code get} on pods in that namespace only.
   */
  static LeaderAddresses pods(KubernetesClient client, String namespace, int linkApiPort) {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(namespace, "namespace");
    Logger log = LoggerFactory.getLogger(LeaderAddresses.class);
    return identity -> {
      try {
        Pod pod = client.pods().inNamespace(namespace).withName(identity).get();
        String ip = pod == null || pod.getStatus() == null ? null : pod.getStatus().getPodIP();
        if (ip == null || ip.isBlank()) {
          log.warn("leader {} has no pod with an IP in {}; not forwarding", identity, namespace);
          return Optional.empty();
        }
        return Optional.of(new InetSocketAddress(ip, linkApiPort));
      } catch (KubernetesClientException e) {
        log.warn("leader {}: pod not readable ({}); not forwarding", identity, e.getMessage());
        return Optional.empty();
      }
    };
  }
}
