package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.DayOfWeek;

/** A day of the week in a {@link Schedule}, spelled out as in {@code days: [Monday, Friday]}. */
public enum Weekday {
  @JsonProperty("Monday")
  MONDAY(DayOfWeek.MONDAY),
  @JsonProperty("Tuesday")
  TUESDAY(DayOfWeek.TUESDAY),
  @JsonProperty("Wednesday")
  WEDNESDAY(DayOfWeek.WEDNESDAY),
  @JsonProperty("Thursday")
  THURSDAY(DayOfWeek.THURSDAY),
  @JsonProperty("Friday")
  FRIDAY(DayOfWeek.FRIDAY),
  @JsonProperty("Saturday")
  SATURDAY(DayOfWeek.SATURDAY),
  @JsonProperty("Sunday")
  SUNDAY(DayOfWeek.SUNDAY);

  private final DayOfWeek dayOfWeek;

  Weekday(DayOfWeek dayOfWeek) {
    this.dayOfWeek = dayOfWeek;
  }

  public DayOfWeek toDayOfWeek() {
    return dayOfWeek;
  }
}
