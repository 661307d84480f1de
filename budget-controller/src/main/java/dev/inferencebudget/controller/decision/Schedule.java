package dev.inferencebudget.controller.decision;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * A recurring time window during which a model keeps at least {@code minReplicas}, evaluated from
 * the {@code now} handed to the decider and this zone (no clock is read).
 *
 * @param name shown in reasons
 * @param days the days on which the window starts; empty means every day
 * @param start local start time (inclusive)
 * @param end local end time (exclusive); at or before {@code start} the window ends the next day
 * @param zone the zone the local times are in
 * @param minReplicas the floor while the window is active
 */
public record Schedule(
    String name,
    Set<DayOfWeek> days,
    LocalTime start,
    LocalTime end,
    ZoneId zone,
    int minReplicas) {

  public Schedule {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(days, "days");
    Objects.requireNonNull(start, "start");
    Objects.requireNonNull(end, "end");
    Objects.requireNonNull(zone, "zone");
    days = days.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(days));
    if (minReplicas < 0) {
      throw new IllegalArgumentException(
          "schedule " + name + ": minReplicas = " + minReplicas + ", must be >= 0");
    }
  }

  /** Whether the window is active at {@code now}. */
  public boolean isActive(Instant now) {
    ZonedDateTime local = now.atZone(zone);
    LocalTime time = local.toLocalTime();
    DayOfWeek today = local.getDayOfWeek();
    if (start.isBefore(end)) {
      return startsOn(today) && !time.isBefore(start) && time.isBefore(end);
    }
    // Crosses midnight (or spans a whole day when start == end).
    return (startsOn(today) && !time.isBefore(start))
        || (startsOn(today.minus(1)) && time.isBefore(end));
  }

  /** The next instant after {@code now} at which the window may open or close. */
  public Instant nextBoundaryAfter(Instant now) {
    LocalDate date = now.atZone(zone).toLocalDate();
    Instant best = null;
    for (int day = 0; day <= 1; day++) {
      for (LocalTime t : new LocalTime[] {start, end}) {
        Instant candidate = ZonedDateTime.of(date.plusDays(day), t, zone).toInstant();
        if (candidate.isAfter(now) && (best == null || candidate.isBefore(best))) {
          best = candidate;
        }
      }
    }
    // Two days always contain a later occurrence of a local time, DST gaps included.
    return best == null ? now.plusSeconds(86_400) : best;
  }

  private boolean startsOn(DayOfWeek day) {
    return days.isEmpty() || days.contains(day);
  }
}
