package dev.inferencebudget.harness.replay;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.util.Optional;

/** Where the replay sends its requests, and the cluster it watches (when it can see one). */
public interface ReplayTarget extends AutoCloseable {
  /** The OpenAI base URL, for example {@code http://127.0.0.1:8080/v1}. */
  URI openAiBaseUrl();

  /** The cluster's API, to create the scenario's objects and watch its pods. */
  Optional<KubernetesClient> kubernetes();

  @Override
  void close();
}
