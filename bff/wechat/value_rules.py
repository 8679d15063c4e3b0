"""Subscription-message value rules: what WeChat accepts for each template key type.

One implementation serves both sides: the simulator refuses what breaks a rule (47003)
and the BFF's renderer calls :func:`fit` before sending, so the two cannot drift apart.
A key's type is its name's alphabetic prefix (``thing2`` -> ``thing``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date

KEY_TYPES = frozenset(
    {
        "thing", "number", "letter", "symbol", "character_string", "time", "date",
        "amount", "phone_number", "car_number", "name", "phrase",
    }
)

ELLIPSIS = "…"
_KEY = re.compile(r"^([a-z_]+?)\d+$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$", re.ASCII)
_HHMM = r"(\d{1,2}):(\d{2})"
_DATE_CN = r"(\d{4})年(\d{1,2})月(\d{1,2})日"
_DATE_ISO = r"(\d{4})-(\d{1,2})-(\d{1,2})"
_DATE_ONLY = re.compile(rf"^(?:{_DATE_CN}|{_DATE_ISO})$", re.ASCII)
_DATE_TIME = re.compile(rf"^(?:{_DATE_CN}|{_DATE_ISO}) {_HHMM}$", re.ASCII)
_TIME_ONLY = re.compile(rf"^{_HHMM}$", re.ASCII)
_RANGE_SEP = re.compile(r"\s*~\s*")
_FIRST_NUMBER = re.compile(r"\d+(?:\.\d+)?", re.ASCII)


def key_type(key: str) -> str | None:
    """``thing2`` -> ``thing``; None for a key WeChat would not recognise."""
    match = _KEY.match(key)
    if match is None or match.group(1) not in KEY_TYPES:
        return None
    return match.group(1)


# Character classes ---------------------------------------------------------------------

def is_chinese(ch: str) -> bool:
    code = ord(ch)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF


def is_symbol(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


def _is_ascii_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _is_code_char(ch: str) -> bool:
    """character_string: ASCII digits, letters and symbols; no spaces, no Chinese."""
    return "!" <= ch <= "~"


# Validation ----------------------------------------------------------------------------

def _valid_date(year: str, month: str, day: str) -> bool:
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def _valid_hhmm(hour: str, minute: str) -> bool:
    return int(hour) <= 23 and int(minute) <= 59


def _date_parts(groups: tuple[str | None, ...]) -> tuple[str, str, str]:
    year, month, day = (g for g in groups[:6] if g is not None)
    return year, month, day


def _is_date(value: str, *, with_time: bool) -> bool:
    """``YYYY年M月D日`` / ``YYYY-MM-DD``, followed by `` HH:MM`` when ``with_time``."""
    pattern = _DATE_TIME if with_time else _DATE_ONLY
    match = pattern.match(value)
    if match is None:
        return False
    groups = match.groups()
    if with_time and not _valid_hhmm(groups[6], groups[7]):
        return False
    return _valid_date(*_date_parts(groups))


def _is_time_point(value: str) -> bool:
    match = _TIME_ONLY.match(value)
    if match is not None:
        return _valid_hhmm(*match.groups())
    return _is_date(value, with_time=True)


def _check_time(value: str) -> str | None:
    points = _RANGE_SEP.split(value)
    if len(points) > 2:
        return "at most one '~' range"
    if not all(_is_time_point(p) for p in points):
        return "not a 24-hour time like 15:01 or 2019年10月1日 15:01"
    return None


def _check_date(value: str) -> str | None:
    if _is_date(value, with_time=False) or _is_date(value, with_time=True):
        return None
    return "not a date like 2019年10月1日 (optionally with 15:01)"


def _split_amount(value: str) -> tuple[str, str, str] | None:
    """(sign, number, yuan suffix) when shaped like an amount, else None."""
    sign = value[0] if value and unicodedata.category(value[0]) == "Sc" else ""
    body = value[len(sign):]
    suffix = "元" if body.endswith("元") else ""
    number = body[: len(body) - len(suffix)]
    if not _NUMBER.match(number) or not (sign or suffix):
        return None
    return sign, number, suffix


def _check_amount(value: str) -> str | None:
    parts = _split_amount(value)
    if parts is None:
        return "not one currency sign followed by digits (or digits followed by 元)"
    if sum(ch.isdigit() for ch in parts[1]) > 10:
        return "more than 10 digits"
    return None


def _check_number(value: str) -> str | None:
    if not _NUMBER.match(value):
        return "not a number (digits, optionally with decimals)"
    if sum(ch.isdigit() for ch in value) > 32:
        return "more than 32 digits"
    return None


def _check_chars(limit: int, allowed: Callable[[str], bool], what: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if not all(allowed(ch) for ch in value):
            return f"only {what} allowed"
        if len(value) > limit:
            return f"longer than {limit} characters"
        return None

    return check


def _check_phone(value: str) -> str | None:
    if not any(ch.isdigit() for ch in value):
        return "no digits"
    return _check_chars(17, lambda ch: ch in "+-" or (ch.isascii() and ch.isdigit()), "digits, + and -")(value)


def _check_name(value: str) -> str | None:
    if all(is_chinese(ch) for ch in value):
        return None if len(value) <= 10 else "longer than 10 Chinese characters"
    if all(_is_ascii_letter(ch) for ch in value):
        return None if len(value) <= 20 else "longer than 20 letters"
    return "only Chinese characters, or only letters, allowed"


_CHECKS: dict[str, Callable[[str], str | None]] = {
    "thing": _check_chars(20, str.isprintable, "printable characters"),
    "number": _check_number,
    "letter": _check_chars(32, _is_ascii_letter, "letters"),
    "symbol": _check_chars(5, is_symbol, "symbols"),
    "character_string": _check_chars(32, _is_code_char, "digits, letters and symbols"),
    "time": _check_time,
    "date": _check_date,
    "amount": _check_amount,
    "phone_number": _check_phone,
    "car_number": _check_chars(8, lambda ch: ch.isprintable() and not ch.isspace(), "non-space characters"),
    "name": _check_name,
    "phrase": _check_chars(5, is_chinese, "Chinese characters"),
}


def violation(key_type: str, value: str) -> str | None:
    """None when WeChat accepts ``value`` for a key of ``key_type``, else a short reason."""
    check = _CHECKS.get(key_type)
    if check is None:
        return f"unknown key type {key_type!r}"
    if not isinstance(value, str) or not value.strip():
        return "empty"
    return check(value)


# Fitting -------------------------------------------------------------------------------

def _keep(value: str, allowed: Callable[[str], bool]) -> str:
    return "".join(ch for ch in value if allowed(ch))


def _nonempty(value: str, key_type: str) -> str:
    if not value:
        raise ValueError(f"nothing usable left for a {key_type} value")
    return value


def _fit_thing(value: str) -> str:
    # Newlines and tabs become spaces: they are not printable, but the words are wanted.
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    text = _nonempty(text, "thing")
    return text if len(text) <= 20 else text[:19] + ELLIPSIS


def _fit_number(value: str) -> str:
    # The first number in the text ("共 1,234.5 件" -> 1234.5), not all digits glued together.
    match = _FIRST_NUMBER.search(unicodedata.normalize("NFKC", value).replace(",", ""))
    if match is None:
        raise ValueError("no number in the value")
    whole, _, fraction = match.group(0).partition(".")
    if len(whole) > 32:
        raise ValueError("a number with more than 32 digits cannot be shortened")
    fraction = fraction[: 32 - len(whole)]
    return f"{whole}.{fraction}" if fraction else whole


def _fit_letters(limit: int) -> Callable[[str], str]:
    def fit_letters(value: str) -> str:
        return _nonempty(_keep(unicodedata.normalize("NFKC", value), _is_ascii_letter), "letter")[:limit]

    return fit_letters


def _fit_code(value: str) -> str:
    return _nonempty(_keep(unicodedata.normalize("NFKC", value), _is_code_char), "character_string")[:32]


def _fit_symbol(value: str) -> str:
    return _nonempty(_keep(value, is_symbol), "symbol")[:5]


def _fit_phrase(value: str) -> str:
    return _nonempty(_keep(value, is_chinese), "phrase")[:5]


def _fit_name(value: str) -> str:
    chinese = _keep(value, is_chinese)
    if chinese:
        return chinese[:10]
    return _nonempty(_keep(unicodedata.normalize("NFKC", value), _is_ascii_letter), "name")[:20]


def _fit_phone(value: str) -> str:
    text = _keep(unicodedata.normalize("NFKC", value), lambda ch: ch in "+-" or (ch.isascii() and ch.isdigit()))
    if _check_phone(text) is not None:
        raise ValueError("not a usable phone number")  # cutting a number would make it wrong
    return text


def _fit_car(value: str) -> str:
    text = _keep(unicodedata.normalize("NFKC", value), lambda ch: ch.isalnum() and ch.isprintable()).upper()
    if not text or len(text) > 8:
        raise ValueError("not a usable car number")  # cutting a plate would make it wrong
    return text


def _fit_amount(value: str) -> str:
    text = "".join(unicodedata.normalize("NFKC", value).split()).replace(",", "")
    parts = _split_amount(text) or _split_amount("¥" + text)
    if parts is None:
        raise ValueError("not an amount")
    sign, number, suffix = parts
    whole, _, fraction = number.partition(".")
    if len(whole) > 10:
        raise ValueError("an amount with more than 10 digits cannot be shortened")
    fraction = fraction[: 10 - len(whole)]
    return sign + (f"{whole}.{fraction}" if fraction else whole) + suffix


_ISO_POINT = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]+(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?$",
    re.ASCII,
)


def _canonical_point(value: str, *, want_time: bool) -> str:
    """Reformat one date/time point as ``YYYY年M月D日[ HH:MM]`` or ``HH:MM``."""
    text = value.strip()
    match = _TIME_ONLY.match(text)
    if match is not None and _valid_hhmm(*match.groups()):
        return f"{int(match.group(1)):02d}:{match.group(2)}"
    match = _ISO_POINT.match(text)
    if match is None:
        raise ValueError("not a date or time")
    year, month, day, hour, minute = match.groups()
    if not _valid_date(year, month, day):
        raise ValueError("not a calendar date")
    day_text = f"{int(year)}年{int(month)}月{int(day)}日"
    if hour is None:
        if want_time:
            raise ValueError("a time value needs a time of day")
        return day_text
    if not _valid_hhmm(hour, minute):
        raise ValueError("not a 24-hour time")
    return f"{day_text} {int(hour):02d}:{minute}"


def _fit_time(value: str) -> str:
    points = _RANGE_SEP.split(value.strip())
    if len(points) > 2:
        raise ValueError("more than one '~'")
    return "~".join(_canonical_point(p, want_time=True) for p in points)


def _fit_date(value: str) -> str:
    point = _canonical_point(value, want_time=False)
    if _TIME_ONLY.match(point):
        raise ValueError("a date value needs a date")
    return point


_FITS: dict[str, Callable[[str], str]] = {
    "thing": _fit_thing,
    "number": _fit_number,
    "letter": _fit_letters(32),
    "symbol": _fit_symbol,
    "character_string": _fit_code,
    "time": _fit_time,
    "date": _fit_date,
    "amount": _fit_amount,
    "phone_number": _fit_phone,
    "car_number": _fit_car,
    "name": _fit_name,
    "phrase": _fit_phrase,
}


def fit(key_type: str, value: str) -> str:
    """``value`` shortened/cleaned so WeChat accepts it; ValueError when that is impossible."""
    if key_type not in _FITS:
        raise ValueError(f"unknown key type {key_type!r}")
    if violation(key_type, value) is None:
        return value
    fitted = _FITS[key_type](value)
    reason = violation(key_type, fitted)
    if reason is not None:  # a safety net: never hand WeChat a value it will refuse
        raise ValueError(f"cannot fit a {key_type} value: {reason}")
    return fitted
