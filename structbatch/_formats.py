"""String formats structbatch asserts, beyond those `jsonschema` checks without optional extras.

`jsonschema` checks `date`, `email`, `idn-email`, `idn-hostname`, `ipv4`, `ipv6`, `regex` and
`uuid` on its own; `date-time`, `time`, `duration` and `hostname` need packages it does not
install. Those four are common in extraction schemas (and all but `hostname` are in the API's
structured-output subset), so they are checked here, by their RFC grammars (RFC 3339 sections
5.6 and appendix A, RFC 1123 with IDNA 2008 A-labels), with ASCII digits only. Formats with no checker are not asserted.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import jsonschema

_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]"
    r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?([Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)
_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?([Zz]|([+-])([0-9]{2}):([0-9]{2}))")
_DUR_TIME = r"T(?:[0-9]+H(?:[0-9]+M(?:[0-9]+S)?)?|[0-9]+M(?:[0-9]+S)?|[0-9]+S)"
_DURATION = re.compile(
    rf"P(?:(?:[0-9]+D|[0-9]+M(?:[0-9]+D)?|[0-9]+Y(?:[0-9]+M(?:[0-9]+D)?)?)(?:{_DUR_TIME})?|{_DUR_TIME}|[0-9]+W)"
)
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _clock(hour: int, minute: int, second: int, sign: str | None, off_h: int, off_m: int) -> bool:
    """A valid wall-clock time with offset; second 60 only where the UTC time is 23:59:60."""
    if hour > 23 or minute > 59 or second > 60 or off_h > 23 or off_m > 59:
        return False
    if second == 60:
        shift = (off_h * 60 + off_m) * (-1 if sign == "+" else 1) if sign else 0
        utc = (hour * 60 + minute + shift) % (24 * 60)
        return utc == 23 * 60 + 59
    return True


def is_date_time(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    m = _DATE_TIME.fullmatch(value)
    if m is None:
        return False
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return _clock(hour, minute, second, m.group(8), int(m.group(9) or 0), int(m.group(10) or 0))


def is_time(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    m = _TIME.fullmatch(value)
    if m is None:
        return False
    hour, minute, second = (int(m.group(i)) for i in range(1, 4))
    return _clock(hour, minute, second, m.group(5), int(m.group(6) or 0), int(m.group(7) or 0))


def is_duration(value: Any) -> bool:
    return not isinstance(value, str) or _DURATION.fullmatch(value) is not None


def is_hostname(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    if not value or len(value) > 253:
        return False
    return all(_LABEL.fullmatch(label) and _a_label_ok(label) for label in value.split("."))


def _a_label_ok(label: str) -> bool:
    """`--` in positions 3-4 is reserved for A-labels (`xn--`), which must decode under IDNA 2008."""
    if label[2:4] != "--":
        return True
    if label[:4].lower() != "xn--":
        return False
    try:
        import idna  # the IDNA 2008 rules (installed with httpx, which the SDK uses)
    except ImportError:  # pragma: no cover - without it, A-labels are taken as written
        return True
    try:
        idna.decode(label)
    except (idna.IDNAError, UnicodeError):
        return False
    return True


_EXTRA = {"date-time": is_date_time, "time": is_time, "duration": is_duration, "hostname": is_hostname}


_CHECKERS: dict[type[Any], jsonschema.FormatChecker] = {}


def format_checker(dialect: type[Any]) -> jsonschema.FormatChecker:
    """`dialect`'s own format checker plus the formats above (where it has no check of its own)."""
    checker = _CHECKERS.get(dialect)
    if checker is None:
        base: jsonschema.FormatChecker = dialect.FORMAT_CHECKER
        checker = jsonschema.FormatChecker(())
        checker.checkers = dict(base.checkers)
        for name, fn in _EXTRA.items():
            checker.checkers.setdefault(name, (fn, ()))
        _CHECKERS[dialect] = checker
    return checker


def checked_formats(dialect: type[Any]) -> list[str]:
    """The formats asserted for `dialect` (for the README and `schema check`)."""
    return sorted(format_checker(dialect).checkers)
