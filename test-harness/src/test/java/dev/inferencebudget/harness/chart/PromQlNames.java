package dev.inferencebudget.harness.chart;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names a PromQL expression reads. Hand-written because no PromQL parser exists for the
 * JVM among our dependencies (the reference parser is Go); it handles the subset our dashboard and
 * alerts use: selectors with label matchers, range vectors, aggregations with {@code by}/{@code
 * without}, binary operators, function calls and Grafana variables.
 */
final class PromQlNames {

  private static final Pattern STRINGS = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'[^']*'");
  private static final Pattern LABEL_MATCHERS = Pattern.compile("\\{[^}]*}");
  private static final Pattern RANGES = Pattern.compile("\\[[^]]*]");
  private static final Pattern GROUPINGS =
      Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
  private static final Pattern GRAFANA_VARIABLES = Pattern.compile("\\$\\{?\\w+}?");
  private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern LABEL_VALUES =
      Pattern.compile("label_values\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)");
  private static final Set<String> KEYWORDS =
      Set.of(
          "and",
          "or",
          "unless",
          "by",
          "without",
          "on",
          "ignoring",
          "group_left",
          "group_right",
          "bool",
          "offset",
          "inf",
          "nan");

  private PromQlNames() {}

  /** Every metric name in {@code expr}. */
  static Set<String> metricNames(String expr) {
    String s = STRINGS.matcher(expr).replaceAll(" ");
    s = LABEL_MATCHERS.matcher(s).replaceAll(" ");
    s = RANGES.matcher(s).replaceAll(" ");
    s = GROUPINGS.matcher(s).replaceAll(" ");
    s = GRAFANA_VARIABLES.matcher(s).replaceAll(" ");
    Set<String> names = new TreeSet<>();
    Matcher m = IDENTIFIER.matcher(s);
    while (m.find()) {
      String token = m.group();
      boolean call = s.substring(m.end()).stripLeading().startsWith("(");
      boolean partOfNumber = m.start() > 0 && Character.isDigit(s.charAt(m.start() - 1));
      if (!call && !partOfNumber && !KEYWORDS.contains(token.toLowerCase())) {
        names.add(token);
      }
    }
    return names;
  }

  /** The metric of a Grafana {@code label_values(metric, label)} variable query. */
  static Set<String> labelValuesMetric(String query) {
    Set<String> names = new TreeSet<>();
    Matcher m = LABEL_VALUES.matcher(query);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }
}
