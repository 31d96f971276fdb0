"""``[queue] nightly`` in the config's zone: the UTC cron lines procrastinate fires, and which firing starts the
night — on ordinary days, both summer-time changes, and in a zone with a half-hour offset."""

from __future__ import annotations

from datetime import UTC, date, datetime

from connector.queue.schedule import cron_lines, night_due


def at(year: int, month: int, day: int, hour: int, minute: int) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()


def test_oslo_half_past_two_fires_at_both_utc_times_of_the_year() -> None:
    assert cron_lines("02:30", "Europe/Oslo", 2026) == ["30 0,1 * * *"]


def test_the_night_starts_at_half_past_two_local_time_in_winter_and_summer() -> None:
    # Winter (UTC+1): 00:30 UTC is 01:30 in Oslo, too early; 01:30 UTC is 02:30.
    assert night_due(at(2026, 1, 15, 0, 30), "02:30", "Europe/Oslo") is None
    assert night_due(at(2026, 1, 15, 1, 30), "02:30", "Europe/Oslo") == date(2026, 1, 15)
    # Summer (UTC+2): 00:30 UTC is 02:30; the second firing, 03:30 local, means the same night (a no-op).
    assert night_due(at(2026, 7, 15, 0, 30), "02:30", "Europe/Oslo") == date(2026, 7, 15)
    assert night_due(at(2026, 7, 15, 1, 30), "02:30", "Europe/Oslo") == date(2026, 7, 15)


def test_no_night_is_lost_or_doubled_when_the_clocks_change() -> None:
    # 29 March 2026: 02:00 CET becomes 03:00 CEST, 02:30 never happens; the night starts at 03:30.
    assert night_due(at(2026, 3, 29, 0, 30), "02:30", "Europe/Oslo") is None
    assert night_due(at(2026, 3, 29, 1, 30), "02:30", "Europe/Oslo") == date(2026, 3, 29)
    # 25 October 2026: 02:30 happens twice; both firings mean the same night (the second enqueue is a no-op).
    assert night_due(at(2026, 10, 25, 0, 30), "02:30", "Europe/Oslo") == date(2026, 10, 25)
    assert night_due(at(2026, 10, 25, 1, 30), "02:30", "Europe/Oslo") == date(2026, 10, 25)


def test_a_late_evening_time_belongs_to_its_own_local_day() -> None:
    assert cron_lines("23:30", "Europe/Oslo", 2026) == ["30 21,22 * * *"]
    # Summer: 22:30 UTC is already 00:30 the next day in Oslo, before 23:30 of that day: not due.
    assert night_due(at(2026, 7, 15, 22, 30), "23:30", "Europe/Oslo") is None
    assert night_due(at(2026, 7, 15, 21, 30), "23:30", "Europe/Oslo") == date(2026, 7, 15)


def test_a_half_hour_zone_and_utc() -> None:
    assert cron_lines("02:30", "Asia/Kolkata", 2026) == ["0 21 * * *"]
    assert night_due(at(2026, 7, 14, 21, 0), "02:30", "Asia/Kolkata") == date(2026, 7, 15)
    assert cron_lines("02:30", "UTC", 2026) == ["30 2 * * *"]
