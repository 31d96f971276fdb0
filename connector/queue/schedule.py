"""``[queue] nightly = "02:30"`` in the config's time zone, as procrastinate periodic tasks (cron in UTC).

procrastinate reads cron lines in UTC. A zone's offset moves (summer time), so the nightly time maps to
more than one UTC time a year: a periodic task fires at each, and :func:`night_due` says at which of them
the night is due — the first whose local time has reached the nightly time on that local day. The later
firing the same day then finds the night queued already and is a no-op. On the day the clocks spring
forward past 02:30 the night starts at the first firing after it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def cron_lines(nightly: str, zone: str, year: int) -> list[str]:
    """Cron lines (UTC) that fire at ``nightly`` local time whatever the offset in force in ``year``."""
    at = time.fromisoformat(nightly)
    tz = ZoneInfo(zone)
    offsets = {datetime(year, 1, 1, tzinfo=tz).utcoffset()} | {
        (datetime(year, 1, 1, 12, tzinfo=tz) + timedelta(days=d)).utcoffset() for d in range(0, 366 + 365)
    }
    by_minute: dict[int, set[int]] = {}
    for offset in offsets:
        assert offset is not None
        utc = datetime.combine(date(year, 1, 1), at) - offset
        by_minute.setdefault(utc.minute, set()).add(utc.hour)
    return [f"{minute} {','.join(str(h) for h in sorted(hours))} * * *" for minute, hours in sorted(by_minute.items())]


def night_due(timestamp: float, nightly: str, zone: str) -> date | None:
    """The night to enqueue for a firing at ``timestamp`` (epoch seconds), or None when it is too early."""
    local = datetime.fromtimestamp(timestamp, UTC).astimezone(ZoneInfo(zone))
    at = time.fromisoformat(nightly)
    return local.date() if (local.hour, local.minute) >= (at.hour, at.minute) else None


def today(zone: str) -> date:
    """The night ``arsync run --queue`` means without ``--as-of``: today in the config's zone."""
    return datetime.now(ZoneInfo(zone)).date()
