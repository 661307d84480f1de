package dev.inferencebudget.xds.server;

import com.google.protobuf.Message;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One atomic batch of changes to the served resources, by type URL and resource name. Upserting a
 * message equal to the one already served changes nothing (no new version, nothing sent).
 */
public record ResourceChanges(
    Map<String, Map<String, Message>> upserts, Map<String, Set<String>> removals) {

  public ResourceChanges {
    upserts = Map.copyOf(Objects.requireNonNull(upserts, "upserts"));
    removals = Map.copyOf(Objects.requireNonNull(removals, "removals"));
  }

  public static Builder builder() {
    return new Builder();
  }

  public boolean isEmpty() {
    return upserts.values().stream().allMatch(Map::isEmpty)
        && removals.values().stream().allMatch(Set::isEmpty);
  }

  /** Collects changes; later calls for the same resource win. */
  public static final class Builder {
    private final Map<String, Map<String, Message>> upserts = new HashMap<>();
    private final Map<String, Set<String>> removals = new HashMap<>();

    public Builder upsert(String typeUrl, String name, Message resource) {
      Objects.requireNonNull(resource, "resource");
      upserts.computeIfAbsent(typeUrl, t -> new HashMap<>()).put(name, resource);
      Set<String> removed = removals.get(typeUrl);
      if (removed != null) {
        removed.remove(name);
      }
      return this;
    }

    public Builder remove(String typeUrl, String name) {
      removals.computeIfAbsent(typeUrl, t -> new HashSet<>()).add(name);
      Map<String, Message> upserted = upserts.get(typeUrl);
      if (upserted != null) {
        upserted.remove(name);
      }
      return this;
    }

    public ResourceChanges build() {
      Map<String, Map<String, Message>> upsertsCopy = new HashMap<>();
      upserts.forEach((type, byName) -> upsertsCopy.put(type, Map.copyOf(byName)));
      Map<String, Set<String>> removalsCopy = new HashMap<>();
      removals.forEach((type, names) -> removalsCopy.put(type, Set.copyOf(names)));
      return new ResourceChanges(upsertsCopy, removalsCopy);
    }
  }
}
