package dev.inferencebudget.extproc.flow;

import dev.inferencebudget.extproc.api.ModelState;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The endpoint-picker answer for one admitted request: the picked endpoint first, then fallbacks.
 *
 * <p>Gateway API Inference Extension protocol: the primary {@code ip:port} goes in the {@code
 * x-gateway-destination-endpoint} header (an ORIGINAL_DST cluster reads only a literal {@code
 * ip:port} there, spec rule 24), and the same key in dynamic metadata namespace {@code envoy.lb}
 * carries the comma-separated list, primary first, for gateways that retry on the next one.
 */
public final class DestinationEndpoints {

  /**
   * At most this many addresses, primary included: a few alternatives cover a replica that went
   * away between the pick and the connection; listing every replica of a large model would only
   * bloat each request's metadata.
   */
  public static final int MAX_DESTINATIONS = 4;

  private DestinationEndpoints() {}

  /**
   * {@code picked}, then the other ready endpoints by this replica's in-flight count (fewest first;
   * ties in the controller's order), at most {@link #MAX_DESTINATIONS} in all.
   *
   * @param ready the model's ready endpoints, in the controller's order
   * @param inFlight in-flight requests per address on this ext-proc replica
   */
  public static List<String> ordered(
      String picked, List<ModelState.Endpoint> ready, Map<String, Integer> inFlight) {
    Objects.requireNonNull(picked, "picked");
    List<String> others = new ArrayList<>();
    for (ModelState.Endpoint e : ready) {
      if (e.ready() && !e.address().equals(picked) && !others.contains(e.address())) {
        others.add(e.address());
      }
    }
    // Stable sort: equal loads keep the controller's order.
    others.sort(Comparator.comparingInt(a -> inFlight.getOrDefault(a, 0)));
    List<String> out = new ArrayList<>();
    out.add(picked);
    for (String address : others) {
      if (out.size() == MAX_DESTINATIONS) {
        break;
      }
      out.add(address);
    }
    return List.copyOf(out);
  }
}
