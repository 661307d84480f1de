package dev.inferencebudget.harness.xds;

import com.google.protobuf.Message;
import java.util.Optional;

/**
 * Decides whether the client accepts a resource, as Envoy's config validation would. A rejected
 * resource makes the client NACK the whole response and keep its previous state of that type.
 */
@FunctionalInterface
public interface ResourceValidator {

  ResourceValidator ACCEPT_ALL = (typeUrl, resource) -> Optional.empty();

  /**
   * @return the error detail to NACK with, or empty to accept
   */
  Optional<String> validate(String typeUrl, Message resource);
}
