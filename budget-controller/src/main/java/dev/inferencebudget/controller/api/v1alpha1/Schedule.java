package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.time.DayOfWeek;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * A time window in which the model keeps at least {@code minReplicas} (for example office hours). A
 * window whose {@code end} is before its {@code start} runs past midnight; it belongs to the day it
 * starts on.
 *
 * @param name a name for events and status
 * @param days the days the window starts on; absent or empty means every day
 * @param start local start time, {@code HH:MM}
 * @param end local end time, {@code HH:MM} (exclusive)
 * @param timeZone IANA time zone of {@code start} and {@code end} (default {@code UTC})
 * @param minReplicas the fewest replicas during the window (at most {@code replicas.max})
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@ValidationRule(
    value = "self.start != self.end",
    reason = "FieldValueInvalid",
    fieldPath = ".end",
    message = "a schedule's start and end must differ")
public record Schedule(
    @Required @Size(min = 1, max = 63) @JsonPropertyDescription("A name for events and status.")
        String name,
    @Size(max = 7)
        @JsonPropertyDescription("The days the window starts on; absent or empty means every day.")
        List<Weekday> days,
    @Required
        @Pattern(Patterns.LOCAL_TIME)
        @JsonPropertyDescription("Local start time, HH:MM (24-hour clock).")
        String start,
    @Required
        @Pattern(Patterns.LOCAL_TIME)
        @JsonPropertyDescription(
            "Local end time, HH:MM (exclusive); before start means the window runs past midnight.")
        String end,
    @Size(max = 64)
        @Pattern(Patterns.TIME_ZONE)
        @Default(Defaults.SCHEDULE_TIME_ZONE)
        @JsonPropertyDescription("IANA time zone of start and end, e.g. Europe/Berlin.")
        String timeZone,
    @Required
        @Min(0)
        @JsonPropertyDescription("The fewest replicas during the window (at most replicas.max).")
        Integer minReplicas) {

  public Schedule {
    days = days == null ? List.of() : List.copyOf(days);
    timeZone = timeZone == null ? Defaults.SCHEDULE_TIME_ZONE : timeZone;
  }

  /** The days the window starts on; every day when {@code days} is empty. */
  public Set<DayOfWeek> daysOfWeek() {
    if (days.isEmpty()) {
      return EnumSet.allOf(DayOfWeek.class);
    }
    Set<DayOfWeek> result = EnumSet.noneOf(DayOfWeek.class);
    days.forEach(day -> result.add(day.toDayOfWeek()));
    return result;
  }

  public LocalTime startTime() {
    return LocalTime.parse(start);
  }

  public LocalTime endTime() {
    return LocalTime.parse(end);
  }

  /**
   * @throws java.time.DateTimeException if {@code timeZone} is not a known zone
   */
  public ZoneId zoneId() {
    return ZoneId.of(timeZone);
  }
}
