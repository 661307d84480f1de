package dev.inferencebudget.harness.envoy;

import io.envoyproxy.envoy.config.common.mutation_rules.v3.HeaderMutationRules;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.vertx.core.MultiMap;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Applies a {@code HeaderMutation} from the ext_proc server under Envoy's mutation rules (rules 18,
 * 19; MU {@code applyHeaderMutations} and the {@code mutation_rules} checker). Hand-written because
 * the rules are Envoy's own and no library implements them.
 */
final class HeaderMutations {
  /**
   * The permissive rules Envoy uses for ImmediateResponse headers (CC {@code
   * ImmediateMutationChecker}).
   */
  static final HeaderMutationRules IMMEDIATE_RESPONSE_RULES =
      HeaderMutationRules.newBuilder()
          .setAllowAllRouting(com.google.protobuf.BoolValue.of(true))
          .setAllowEnvoy(com.google.protobuf.BoolValue.of(true))
          .build();

  // Rule 19: the "routing headers" (host, :authority, :method, :scheme) need allow_all_routing.
  private static final Set<String> ROUTING_HEADERS =
      Set.of("host", ":authority", ":method", ":scheme");
  // RFC 9110 token characters, optionally after a leading ':' for pseudo-headers.
  private static final Pattern VALID_NAME = Pattern.compile("^:?[!#$%&'*+\\-.^_`|~0-9a-z]+$");

  /** A mutation Envoy answers with a local reply (status_on_error is not used: CC sends 500). */
  static final class MutationException extends Exception {
    private static final long serialVersionUID = 1L;

    MutationException(String message) {
      super(message);
    }
  }

  private HeaderMutations() {}

  /**
   * Applies {@code mutation} to {@code headers}. Disallowed changes are skipped and counted in
   * {@code rejected_header_mutations}, or fail with {@code disallow_is_error}.
   */
  static void apply(
      HeaderMutation mutation,
      MultiMap headers,
      HeaderMutationRules rules,
      int maxHeadersCount,
      ExtProcStats stats)
      throws MutationException {
    for (String rawName : mutation.getRemoveHeadersList()) {
      String name = rawName.toLowerCase(Locale.ROOT);
      if (!VALID_NAME.matcher(name).matches()) {
        throw new MutationException("Invalid character in remove_headers mutation.");
      }
      // Rule 19: removing pseudo-headers or host is never allowed, and silently skipped.
      if (name.startsWith(":") || name.equals("host")) {
        continue;
      }
      if (check(rules, name, stats)) {
        headers.remove(name);
      }
    }
    for (HeaderValueOption option : mutation.getSetHeadersList()) {
      if (!option.hasHeader()) {
        continue;
      }
      var header = option.getHeader();
      // Rule 18: raw_value only; both set is an error; value only yields an empty header.
      if (!header.getValue().isEmpty() && !header.getRawValue().isEmpty()) {
        throw new MutationException("Only one of value or raw_value in set_headers can be set.");
      }
      String name = header.getKey().toLowerCase(Locale.ROOT);
      String value = header.getRawValue().toString(StandardCharsets.UTF_8);
      if (!VALID_NAME.matcher(name).matches() || !validValue(value)) {
        throw new MutationException("Invalid character in set_headers mutation.");
      }
      if (!check(rules, name, stats)) {
        continue;
      }
      applyOne(option, headers, name, value);
      // Rule 19: exceeding the header count limit is an error reply.
      if (headers.size() > maxHeadersCount) {
        throw new MutationException("Header mutation exceeded the maximum headers count.");
      }
    }
  }

  private static void applyOne(
      HeaderValueOption option, MultiMap headers, String name, String value) {
    // Rule 18: "append unset overwrites". A non-default append_action is honoured as Envoy's
    // HeaderValueOption
    // describes; the spec notes this is unconfirmed for the upstream path.
    if (option.hasAppend()) {
      if (option.getAppend().getValue()) {
        headers.add(name, value);
      } else {
        headers.set(name, value);
      }
      return;
    }
    switch (option.getAppendAction()) {
      case ADD_IF_ABSENT -> {
        if (!headers.contains(name)) {
          headers.add(name, value);
        }
      }
      case OVERWRITE_IF_EXISTS -> {
        if (headers.contains(name)) {
          headers.set(name, value);
        }
      }
      default -> headers.set(name, value);
    }
  }

  /**
   * True if allowed; false if ignored (counted); throws if disallowed and {@code
   * disallow_is_error}.
   */
  private static boolean check(HeaderMutationRules rules, String name, ExtProcStats stats)
      throws MutationException {
    if (isAllowed(rules, name)) {
      return true;
    }
    if (rules.hasDisallowIsError() && rules.getDisallowIsError().getValue()) {
      throw new MutationException("Header mutation for " + name + " is not allowed.");
    }
    stats.inc(ExtProcStats.REJECTED_HEADER_MUTATIONS);
    return false;
  }

  // The order of Envoy's Checker::isAllowed; allow/disallow expressions are RE2 in Envoy,
  // java.util.regex here.
  private static boolean isAllowed(HeaderMutationRules rules, String name) {
    if (rules.hasDisallowExpression()
        && Pattern.matches(rules.getDisallowExpression().getRegex(), name)) {
      return false;
    }
    if (rules.hasAllowExpression()
        && Pattern.matches(rules.getAllowExpression().getRegex(), name)) {
      return true;
    }
    if (rules.getDisallowAll().getValue()) {
      return false;
    }
    if (!rules.getAllowAllRouting().getValue() && ROUTING_HEADERS.contains(name)) {
      return false;
    }
    if (rules.getDisallowSystem().getValue() && name.startsWith(":")) {
      return false;
    }
    return rules.getAllowEnvoy().getValue() || !name.startsWith("x-envoy-");
  }

  private static boolean validValue(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\0' || c == '\r' || c == '\n') {
        return false;
      }
    }
    return true;
  }
}
