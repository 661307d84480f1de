package dev.inferencebudget.harness.fleet;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Renders a comparison: the summary table (stdout), the CSV files and the PNG charts. */
public final class FleetReport {
  private final Fleet fleet;
  private final List<PolicyResult> results;

  /**
   * @param results one per policy; the first is the baseline the savings are computed against
   *     (always-on)
   */
  public FleetReport(Fleet fleet, List<PolicyResult> results) {
    this.fleet = Objects.requireNonNull(fleet, "fleet");
    this.results = List.copyOf(results);
    if (this.results.isEmpty()) {
      throw new IllegalArgumentException("nothing to report");
    }
  }

  /**
   * GPU memory saved against the first (baseline) result, as a share of the baseline's
   * GPU-memory-hours.
   */
  public double savedShare(PolicyResult result) {
    double baseline = results.get(0).gpuMemoryByteHours();
    return baseline == 0 ? 0 : (baseline - result.gpuMemoryByteHours()) / baseline;
  }

  /** The summary table, one row per policy, as printed on stdout. */
  public String table() {
    StringBuilder out = new StringBuilder();
    String header =
        String.format(
            Locale.ROOT,
            "%-12s %10s %8s %7s %8s %8s %10s %10s %8s %8s %8s%n",
            "policy",
            "GiB-hours",
            "saved",
            "cold",
            "replica",
            "waited",
            "p50 wait",
            "p99 wait",
            "refused",
            "timeout",
            "peak");
    out.append(header);
    out.append(
        String.format(
            Locale.ROOT,
            "%-12s %10s %8s %7s %8s %8s %10s %10s %8s %8s %8s%n",
            "",
            "reserved",
            "vs " + results.get(0).policy().replace("always-on", "a-on"),
            "starts",
            "starts",
            "for cold",
            "(ms)",
            "(ms)",
            "(budget)",
            "(hold)",
            "GiB"));
    for (PolicyResult r : results) {
      out.append(
          String.format(
              Locale.ROOT,
              "%-12s %10.1f %7.1f%% %7d %8d %7.2f%% %10.0f %10.0f %8d %8d %8.0f%n",
              r.policy(),
              r.gpuMemoryGibHours(),
              100 * savedShare(r),
              r.coldStarts(),
              r.replicaStarts(),
              100 * r.coldStartWaitShare(),
              r.addedWaitMillis(0.50),
              r.addedWaitMillis(0.99),
              r.refusedByBudget(),
              r.holdTimeouts(),
              (double) r.peakReservedBytes() / Fleet.GIB));
    }
    return out.toString();
  }

  /**
   * Writes {@code summary.csv}, {@code timeseries.csv} and the charts into {@code dir}; returns the
   * files.
   */
  public List<Path> write(Path dir) throws IOException {
    Files.createDirectories(dir);
    List<Path> written = new ArrayList<>();
    written.add(writeSummary(dir.resolve("summary.csv")));
    written.add(writeTimeSeries(dir.resolve("timeseries.csv")));
    for (PolicyResult result : results) {
      Path png = dir.resolve("fleet-" + result.policy() + ".png");
      BitmapEncoder.saveBitmap(
          List.of(reservedChart(result), replicasChart(result)),
          2,
          1,
          png.toString(),
          BitmapEncoder.BitmapFormat.PNG);
      written.add(png);
    }
    Path overview = dir.resolve("fleet-policies.png");
    BitmapEncoder.saveBitmap(policiesChart(), overview.toString(), BitmapEncoder.BitmapFormat.PNG);
    written.add(overview);
    return written;
  }

  Path writeSummary(Path file) throws IOException {
    try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      out.write(
          "policy,requests,served,refused_by_budget,hold_timeouts,gpu_memory_gib_hours,saved_vs_baseline,"
              + "cold_starts,replica_starts,waited_for_cold_start,waited_for_cold_start_share,"
              + "added_wait_p50_ms,added_wait_p99_ms,peak_reserved_gib,budget_gib,over_budget_seconds\n");
      for (PolicyResult r : results) {
        out.write(
            String.format(
                Locale.ROOT,
                "%s,%d,%d,%d,%d,%.3f,%.4f,%d,%d,%d,%.4f,%.1f,%.1f,%.1f,%.1f,%.3f%n",
                r.policy(),
                r.requests(),
                r.served(),
                r.refusedByBudget(),
                r.holdTimeouts(),
                r.gpuMemoryGibHours(),
                savedShare(r),
                r.coldStarts(),
                r.replicaStarts(),
                r.waitedForColdStart(),
                r.coldStartWaitShare(),
                r.addedWaitMillis(0.50),
                r.addedWaitMillis(0.99),
                (double) r.peakReservedBytes() / Fleet.GIB,
                (double) fleet.budgetGpuMemoryBytes() / Fleet.GIB,
                r.overBudgetMicros() / 1e6));
      }
    }
    return file;
  }

  Path writeTimeSeries(Path file) throws IOException {
    try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      StringBuilder header = new StringBuilder("policy,time_s,budget_gib,reserved_gib");
      for (ModelProfile model : fleet.models()) {
        header.append(',').append(model.name()).append("_replicas");
        header.append(',').append(model.name()).append("_ready");
        header.append(',').append(model.name()).append("_reserved_gib");
      }
      out.write(header.append('\n').toString());
      double budgetGib = (double) fleet.budgetGpuMemoryBytes() / Fleet.GIB;
      for (PolicyResult r : results) {
        for (PolicyResult.Sample s : r.samples()) {
          StringBuilder row = new StringBuilder(r.policy());
          row.append(',').append(s.atMicros() / 1_000_000);
          row.append(',').append(gib(budgetGib));
          row.append(',').append(gib((double) s.totalReservedBytes() / Fleet.GIB));
          for (int m = 0; m < fleet.models().size(); m++) {
            row.append(',').append(s.replicas()[m]);
            row.append(',').append(s.readyReplicas()[m]);
            row.append(',').append(gib((double) s.reservedBytes()[m] / Fleet.GIB));
          }
          out.write(row.append('\n').toString());
        }
      }
    }
    return file;
  }

  private static String gib(double value) {
    return String.format(Locale.ROOT, "%.1f", value);
  }

  private XYChart reservedChart(PolicyResult result) {
    XYChart chart = baseChart(result.policy() + ": reserved GPU memory per model (stacked)", "GiB");
    double[] hours = hours(result);
    int n = hours.length;
    // xchart does not stack XY series: draw cumulative sums, the largest first, so each band shows
    // one model.
    double[][] cumulative = new double[fleet.models().size()][n];
    for (int i = 0; i < n; i++) {
      double sum = 0;
      for (int m = 0; m < fleet.models().size(); m++) {
        sum += (double) result.samples().get(i).reservedBytes()[m] / Fleet.GIB;
        cumulative[m][i] = sum;
      }
    }
    for (int m = fleet.models().size() - 1; m >= 0; m--) {
      XYSeries series = chart.addSeries(fleet.models().get(m).name(), hours, cumulative[m]);
      series.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Area);
      series.setFillColor(colour(m));
      series.setLineColor(colour(m).darker());
      series.setMarker(SeriesMarkers.NONE);
    }
    double budgetGib = (double) fleet.budgetGpuMemoryBytes() / Fleet.GIB;
    XYSeries budget =
        chart.addSeries(
            "budget",
            new double[] {0, n == 0 ? 1 : hours[n - 1]},
            new double[] {budgetGib, budgetGib});
    budget.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    budget.setMarker(SeriesMarkers.NONE);
    budget.setLineColor(Color.RED);
    budget.setLineStyle(new BasicStroke(2f));
    return chart;
  }

  private XYChart replicasChart(PolicyResult result) {
    XYChart chart =
        baseChart(result.policy() + ": replicas (starting + ready) per model", "replicas");
    double[] hours = hours(result);
    for (int m = 0; m < fleet.models().size(); m++) {
      double[] replicas = new double[hours.length];
      for (int i = 0; i < hours.length; i++) {
        // Offset each model a little so that equal counts stay visible as separate lines.
        replicas[i] = result.samples().get(i).replicas()[m] + m * 0.04;
      }
      XYSeries series = chart.addSeries(fleet.models().get(m).name(), hours, replicas);
      series.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Step);
      series.setMarker(SeriesMarkers.NONE);
      series.setLineColor(colour(m));
    }
    return chart;
  }

  /**
   * One colour per model in both charts (xchart would colour by series order, which differs between
   * them).
   */
  private static Color colour(int model) {
    Color[] palette = {
      new Color(0x1f77b4),
      new Color(0xff7f0e),
      new Color(0x2ca02c),
      new Color(0xd62728),
      new Color(0x9467bd),
      new Color(0x8c564b),
      new Color(0xe377c2),
      new Color(0x7f7f7f),
      new Color(0xbcbd22),
      new Color(0x17becf)
    };
    Color base = palette[model % palette.length];
    return model < palette.length ? base : base.brighter();
  }

  private XYChart policiesChart() {
    XYChart chart = baseChart("reserved GPU memory of the fleet, per policy", "GiB");
    for (PolicyResult result : results) {
      double[] hours = hours(result);
      double[] reserved = new double[hours.length];
      for (int i = 0; i < hours.length; i++) {
        reserved[i] = (double) result.samples().get(i).totalReservedBytes() / Fleet.GIB;
      }
      XYSeries series = chart.addSeries(result.policy(), hours, reserved);
      series.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Step);
      series.setMarker(SeriesMarkers.NONE);
    }
    double budgetGib = (double) fleet.budgetGpuMemoryBytes() / Fleet.GIB;
    double end = results.get(0).durationMicros() / 3.6e9;
    XYSeries budget =
        chart.addSeries(
            "budget", new double[] {0, Math.max(end, 1e-3)}, new double[] {budgetGib, budgetGib});
    budget.setMarker(SeriesMarkers.NONE);
    budget.setLineColor(Color.RED);
    budget.setLineStyle(new BasicStroke(2f));
    return chart;
  }

  private static XYChart baseChart(String title, String yTitle) {
    XYChart chart =
        new XYChartBuilder()
            .width(1400)
            .height(500)
            .title(title)
            .xAxisTitle("hours")
            .yAxisTitle(yTitle)
            .build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setPlotGridLinesVisible(true);
    return chart;
  }

  private static double[] hours(PolicyResult result) {
    double[] hours = new double[result.samples().size()];
    for (int i = 0; i < hours.length; i++) {
      hours[i] = result.samples().get(i).atMicros() / 3.6e9;
    }
    return hours;
  }
}
