"""Times in run logs: nvidia-smi's timestamps, the window of samples to integrate, and the logs' UTC offset.

Read by the nvidia-smi adapter (its timestamps and window), by side.py (the side metadata's window and utc_offset,
checked where the side file is read) and by ingest.py (--window). A time is epoch seconds (float) within
EPOCH_RANGE: a number past it (epoch milliseconds taken for seconds) is no time a datetime can show, and crashed
the window's messages (ValueError: year 57261 is out of range).
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta, timezone

_TIME_FORMATS = ("%Y/%m/%d %H:%M:%S.%f", "%Y/%m/%d %H:%M:%S")
# The epoch seconds a window bound or a timestamp may be: from 0001-01-02 to 9999-12-30 UTC, so that the time, moved
# by any UTC offset, is still a datetime (iso() of 1e12 s, epoch milliseconds taken for seconds, raised ValueError).
EPOCH_RANGE = (datetime(1, 1, 2, tzinfo=timezone.utc).timestamp(),
               datetime(9999, 12, 30, tzinfo=timezone.utc).timestamp())


_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")
# The UTC offsets of the time zones in use (ISO 8601 allows more; no clock has shown them): -12:00 .. +14:00.
OFFSET_RANGE = (timedelta(hours=-12), timedelta(hours=14))


def parse_offset(text: str) -> timezone:
    """The timezone of an offset that offset_problem accepts ("+02:00", "-0530")."""
    match = _OFFSET.fullmatch(text.strip())
    sign = 1 if match.group(1) == "+" else -1
    return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))


def offset_problem(text: object) -> tuple[str, str] | None:
    """None where `text` is a UTC offset ("+02:00", "-0530": a sign, hours, minutes 00-59, within OFFSET_RANGE), else
    (message, hint) saying why not. "+25:00" gave timezone()'s ValueError, an internal error, where "CEST" was a
    clean bad-side."""
    match = _OFFSET.fullmatch(str(text).strip()) if isinstance(text, str) else None
    if not match:
        return (f"cannot read utc_offset {json_text(text)}",
                "write it as '+02:00' (a sign, hours and minutes: the offset from UTC, not a zone's name)")
    if int(match.group(3)) > 59:
        return (f"utc_offset '{text}' has {match.group(3)} minutes", "minutes run from 00 to 59, e.g. '+05:30'")
    sign = 1 if match.group(1) == "+" else -1
    delta = sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
    if not OFFSET_RANGE[0] <= delta <= OFFSET_RANGE[1]:
        return (f"utc_offset '{text}' is no time zone's offset: they run from -12:00 to +14:00",
                "write the offset from UTC of the clock that wrote the log, e.g. '+02:00' for CEST")
    return None


def json_text(value: object) -> str:
    """A side value as quoted in a message: text in single quotes, anything else as JSON writes it (2, null)."""
    return f"'{value}'" if isinstance(value, str) else json.dumps(value)


def parse_time(text: str, offset: timezone) -> float | None:
    """A timestamp as epoch seconds (float): nvidia-smi's "2025/04/16 19:53:18.720" (with or without the fraction) or an
    ISO time, read in `offset` where the text names no zone; None where it is neither."""
    text = text.strip()
    for pattern in _TIME_FORMATS:
        try:
            moment = datetime.strptime(text, pattern)
            break
        except ValueError:
            continue
    else:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    value = (moment if moment.tzinfo else moment.replace(tzinfo=offset)).timestamp()
    return value if in_epoch_range(value) else None     # 0001-01-01 moved by its offset is no datetime to show

def window_bound(bound: object, offset: timezone) -> float | None:
    """One bound of a window as epoch seconds: a number, a number's text ("1744833200") or an ISO time (read in
    `offset` where it names no zone); None where it is none of these, not finite, or outside EPOCH_RANGE. float()
    reads "nan" and "inf", and JSON side metadata may hold NaN or Infinity: such a bound compares false with every
    sample (or true with all) and would select nothing, or everything, without a word. A number past the year 9999
    (epoch milliseconds, 1744833200000) is no time a datetime can show: it crashed the window's messages."""
    if isinstance(bound, bool):
        return None
    if isinstance(bound, (int, float)):
        value = float(bound)
    else:
        try:
            value = float(str(bound))
        except ValueError:
            value = parse_time(str(bound), offset)
    return value if value is not None and in_epoch_range(value) else None


def in_epoch_range(value: float) -> bool:
    """Whether `value` (epoch seconds) is a finite time within EPOCH_RANGE."""
    return math.isfinite(value) and EPOCH_RANGE[0] <= value <= EPOCH_RANGE[1]


def window_hints(bound: object) -> list[str]:
    """What a window bound that window_bound refused should be (hints, the last the forms accepted): epoch seconds or
    an ISO time; where the bound is a number too large for epoch seconds (after the year 9999) that a thousandth of
    would be, that it may be epoch milliseconds, to be divided by 1000. Epoch milliseconds are not taken as such:
    a bound's unit is not guessed from its size, and --window and the side file's window take epoch seconds."""
    forms = "give epoch seconds or an ISO time such as 2025-04-16T19:53:20"
    try:
        value = float(bound) if isinstance(bound, (int, float)) and not isinstance(bound, bool) else float(str(bound))
    except ValueError:
        return [forms]
    if not math.isfinite(value) or in_epoch_range(value):
        return [forms]
    if value > EPOCH_RANGE[1] and in_epoch_range(value / 1000):
        return [f"{bound} is after the year 9999 as epoch seconds: epoch milliseconds? divide by 1000 "
                f"({value / 1000:.15g})", forms]
    return [f"{bound} is no time as epoch seconds (those run from the year 1 to 9999)", forms]

def iso(moment: float) -> str:
    """Epoch seconds as an ISO 8601 UTC time with milliseconds ("2025-04-16T19:53:18.720+00:00")."""
    return datetime.fromtimestamp(moment, timezone.utc).isoformat(timespec="milliseconds")
