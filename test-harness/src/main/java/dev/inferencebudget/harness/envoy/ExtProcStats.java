package dev.inferencebudget.harness.envoy;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Envoy-like counters of one stand-in, named as Envoy names them ({@code
 * http.<prefix>.ext_proc.<name>} without the prefix), plus the HCM and router counters the tests
 * need. Tests read them with {@link #get(String)}.
 */
public final class ExtProcStats {
  // ext_proc filter stats (CC generateStats)
  public static final String STREAMS_STARTED = "streams_started";
  public static final String STREAMS_CLOSED = "streams_closed";
  public static final String STREAMS_FAILED = "streams_failed";
  public static final String STREAM_MSGS_SENT = "stream_msgs_sent";
  public static final String STREAM_MSGS_RECEIVED = "stream_msgs_received";
  public static final String SPURIOUS_MSGS_RECEIVED = "spurious_msgs_received";
  public static final String MESSAGE_TIMEOUTS = "message_timeouts";
  public static final String FAILURE_MODE_ALLOWED = "failure_mode_allowed";
  public static final String REJECTED_HEADER_MUTATIONS = "rejected_header_mutations";
  public static final String CLEAR_ROUTE_CACHE_IGNORED = "clear_route_cache_ignored";
  public static final String CLEAR_ROUTE_CACHE_DISABLED = "clear_route_cache_disabled";
  public static final String OVERRIDE_MESSAGE_TIMEOUT_RECEIVED =
      "override_message_timeout_received";
  public static final String OVERRIDE_MESSAGE_TIMEOUT_IGNORED = "override_message_timeout_ignored";
  // the ext_proc cluster's circuit breaker (conformance case 19)
  public static final String EXT_PROC_RQ_OVERFLOW = "ext_proc_cluster.upstream_rq_pending_overflow";
  // HCM and router
  public static final String DOWNSTREAM_RQ_TOTAL = "downstream_rq_total";
  public static final String DOWNSTREAM_RQ_IDLE_TIMEOUT = "downstream_rq_idle_timeout";
  public static final String DOWNSTREAM_RQ_TOO_LARGE = "downstream_rq_too_large";
  public static final String DOWNSTREAM_CX_DESTROY_REMOTE_ACTIVE_RQ =
      "downstream_cx_destroy_remote_active_rq";
  public static final String UPSTREAM_RQ_TIMEOUT = "upstream_rq_timeout";
  public static final String NO_ROUTE = "no_route";
  public static final String NO_HEALTHY_UPSTREAM = "upstream_cx_none_healthy";

  private final Map<String, LongAdder> counters = new ConcurrentHashMap<>();

  void inc(String name) {
    counters.computeIfAbsent(name, k -> new LongAdder()).increment();
  }

  /** The counter's value, 0 if it never moved. */
  public long get(String name) {
    LongAdder a = counters.get(name);
    return a == null ? 0 : a.sum();
  }

  /** Every counter that moved, sorted by name. */
  public Map<String, Long> snapshot() {
    Map<String, Long> out = new TreeMap<>();
    counters.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }
}
