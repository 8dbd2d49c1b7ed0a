"""Braze's filters that standard Liquid lacks, and the ones whose behaviour Braze changes.

Sources: braze-api.md §5.2 (``default``), §5.6 (``date``, ``time_zone``), §5.7 (the rest; outputs
in the docstrings are the documented examples, checked in ``tests/unit/liquid``). Every filter
returns the empty string for an undefined or ``nil`` input unless stated otherwise, like Braze.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import math
import re
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as date_parser
from liquid.exceptions import FilterArgumentError
from liquid.undefined import Undefined

from engagekit import clock

FilterFunc = Callable[..., Any]


def _text(value: object) -> str:
    """A filter input as text: ``nil``/undefined are empty, booleans are ``true``/``false``."""
    if value is None or isinstance(value, Undefined):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _blank(value: object) -> bool:
    return value is None or isinstance(value, Undefined)


# -- encoding (braze-api.md §5.7, "Encoding filters") -----------------------------------------------


def md5(value: object) -> str:
    """Hex MD5 of the UTF-8 text: ``'hey' | md5`` ⇒ ``6057f13c496ecf7fd777ceb9e79ae285``."""
    return hashlib.md5(_text(value).encode(), usedforsecurity=False).hexdigest()


def sha1(value: object) -> str:
    """Hex SHA-1: ``'hey' | sha1`` ⇒ ``7f550a9f4c44173a37664d938f1355f0f92a47a7``."""
    return hashlib.sha1(_text(value).encode(), usedforsecurity=False).hexdigest()


_SHA2 = {224: hashlib.sha224, 256: hashlib.sha256, 384: hashlib.sha384, 512: hashlib.sha512}


def sha2(value: object, bits: object = 256) -> str:
    """Hex SHA-2 (SHA-256 unless ``bits`` is 224, 384 or 512): ``'hey' | sha2`` ⇒ ``fa690b82…1204``.

    Raises:
        FilterArgumentError: ``bits`` is not one of 224, 256, 384, 512.
    """
    try:
        algorithm = _SHA2[int(str(bits))]
    except (KeyError, ValueError) as err:
        raise FilterArgumentError(f"sha2: unsupported size {bits!r}", token=None) from err
    return algorithm(_text(value).encode()).hexdigest()


def _hmac(value: object, key: object, digest: str) -> bytes:
    if _blank(key):
        raise FilterArgumentError("hmac filters need a secret key argument", token=None)
    return hmac.new(_text(key).encode(), _text(value).encode(), digest).digest()


def hmac_sha1_hex(value: object, key: object = None) -> str:
    """HMAC-SHA1 as hex (also ``hmac_sha1``): ``'hey' | hmac_sha1_hex: 'secret_key'`` ⇒ ``2a3969be…8f0e``."""
    return _hmac(value, key, "sha1").hex()


def hmac_sha1_base64(value: object, key: object = None) -> str:
    """HMAC-SHA1 as base64: ``'hey' | hmac_sha1_base64: 'secret_key'`` ⇒ ``KjlpvtJb/u+wCspAY+uVkLTfjw4=``."""
    return base64.b64encode(_hmac(value, key, "sha1")).decode()


def hmac_sha256_hex(value: object, key: object = None) -> str:
    """HMAC-SHA256 as hex (also ``hmac_sha256``, Shopify's name): ⇒ ``8df897f8…508e`` for the doc example."""
    return _hmac(value, key, "sha256").hex()


def hmac_sha256_base64(value: object, key: object = None) -> str:
    """HMAC-SHA256 as base64: ``'hey' | hmac_sha256_base64: 'secret_key'`` ⇒ ``jfiX+No9…dUI4=``."""
    return base64.b64encode(_hmac(value, key, "sha256")).decode()


def hmac_sha512(value: object, key: object = None) -> str:
    """HMAC-SHA512 as hex (braze-api.md §5.7 string filters)."""
    return _hmac(value, key, "sha512").hex()


def base64_encode(value: object) -> str:
    """Standard base64 of the UTF-8 text (also ``base64``): ``'blah'`` ⇒ ``YmxhaA==``."""
    return base64.b64encode(_text(value).encode()).decode()


# -- URLs -----------------------------------------------------------------------------------------

# Ruby's URI::DEFAULT_PARSER.escape leaves unreserved and reserved characters alone.
_URL_ESCAPE_SAFE = ";/?:@&=+$,[]!~*'()"


def url_escape(value: object) -> str:
    """Escape what may not appear in a URL, keeping reserved characters: ``'hey<>hi'`` ⇒ ``hey%3C%3Ehi``."""
    return urllib.parse.quote(_text(value), safe=_URL_ESCAPE_SAFE)


def url_param_escape(value: object) -> str:
    """Escape everything but unreserved characters, ``&`` included: ``'hey<&>hi'`` ⇒ ``hey%3C%26%3Ehi``."""
    return urllib.parse.quote(_text(value), safe="")


def url_encode(value: object) -> str:
    """Form-encode (spaces become ``+``): ``'google search'`` ⇒ ``google+search``."""
    return urllib.parse.quote_plus(_text(value), safe="")


# -- data -----------------------------------------------------------------------------------------


def property_accessor(value: object, key: object = None) -> object:
    """``hash[key]``: ``{"a": 42, "b": 0} | property_accessor: 'a'`` ⇒ ``42``; ``nil`` when absent."""
    if not isinstance(value, Mapping) or _blank(key):
        return None
    try:
        return value[key]
    except (KeyError, TypeError):
        try:
            return value[_text(key)]
        except (KeyError, TypeError):
            return None


def json_escape(value: object) -> str:
    """Escape text for the inside of a JSON string: quotes, backslashes and control characters."""
    return json.dumps(_text(value), ensure_ascii=False)[1:-1]


def json_parse(value: object) -> object:
    """Parse a JSON string into data; ``nil`` when it is not JSON."""
    if isinstance(value, (Mapping, list)):
        return value
    try:
        return json.loads(_text(value))
    except ValueError:
        return None


def as_json_string(value: object) -> str:
    """Data as compact JSON text (``nil`` ⇒ ``null``)."""
    if isinstance(value, Undefined):
        value = None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _json_default(value: object) -> object:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, datetime):
        return clock.utc_iso(value)
    if isinstance(value, (date, Decimal)):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


# -- numbers --------------------------------------------------------------------------------------


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool) or _blank(value):
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(_text(value).strip())
    except InvalidOperation:
        return None


def number_with_delimiter(value: object) -> object:
    """Group thousands with commas: ``123456`` ⇒ ``123,456``; ``1234.5`` ⇒ ``1,234.5``.

    Non-numbers are returned unchanged.
    """
    number = _number(value)
    if number is None or not number.is_finite():
        return "" if _blank(value) else value
    sign = "-" if number < 0 else ""
    text = format(abs(number), "f")
    whole, _, fraction = text.partition(".")
    grouped = f"{int(whole):,}"
    return f"{sign}{grouped}.{fraction}" if fraction else f"{sign}{grouped}"


def money(value: object) -> object:
    """Two decimals and thousands commas, no cents shifting (braze-api.md §5.7): ``145`` ⇒ ``145.00``.

    ``17.8`` ⇒ ``17.80``; ``350000.25`` ⇒ ``350,000.25``. Non-numbers (``"1,000"``) are returned
    unchanged, as Braze asks authors to strip commas and apply ``plus: 0`` first.
    """
    number = _number(value)
    if number is None or not number.is_finite():
        return "" if _blank(value) else value
    return f"{number:,.2f}"


# -- dates and time zones (braze-api.md §5.6) -------------------------------------------------------


class LiquidTime(datetime):
    """A datetime that prints like Ruby's ``Time#to_s`` (``2021-08-04 02:00:00 -0700``)."""

    def __str__(self) -> str:
        return self.strftime("%Y-%m-%d %H:%M:%S %z")


def _liquid_time(value: datetime) -> LiquidTime:
    return LiquidTime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        tzinfo=value.tzinfo,
        fold=value.fold,
    )


def to_datetime(value: object) -> datetime | None:
    """A filter input as an aware datetime, or ``None`` when it is not a time.

    Accepts ``'now'``/``'today'`` (:func:`engagekit.clock.now`, UTC), datetimes and dates (naive
    ones are UTC, as Braze stores times in UTC), epoch seconds (numbers or digit strings) and any
    string ``dateutil`` parses (ISO 8601, ``2021-06-03 17:13:41 UTC``, ...).
    """
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, bool) or _blank(value):
        return None
    if isinstance(value, (int, float, Decimal)):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = _text(value).strip()
    if text in ("now", "today"):
        return clock.now()
    if text.lstrip("-").isdigit():
        return to_datetime(int(text))
    return _parse_time_text(text)


@functools.lru_cache(maxsize=1024)
def _parse_time_text(text: str) -> datetime | None:
    """Parse a time string once per process (attribute times repeat across recipients)."""
    try:
        parsed = date_parser.parse(text)
    except (ValueError, OverflowError):
        return None
    moment: datetime = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return moment


_DIRECTIVE = re.compile(r"%([-_0^#]?)([a-zA-Z%])")


def strftime(moment: datetime, fmt: str) -> str:
    """``moment.strftime(fmt)`` with Ruby's extras: ``%s`` (epoch seconds, braze-api.md §5.6),
    ``%L`` (milliseconds), ``%N`` (nanoseconds) and ``%Q`` (epoch milliseconds)."""

    def extra(match: re.Match[str]) -> str:
        code = match.group(2)
        if code == "s":
            return str(math.floor(moment.timestamp()))
        if code == "Q":
            return str(int(moment.timestamp() * 1000))
        if code == "L":
            return f"{moment.microsecond // 1000:03d}"
        if code == "N":
            return f"{moment.microsecond * 1000:09d}"
        return match.group(0)

    return moment.strftime(_DIRECTIVE.sub(extra, fmt))


def date_filter(value: object, fmt: object = None) -> object:
    """Format a time with strftime directives (braze-api.md §5.6, §11.6).

    ``'now' | date: '%Y'`` uses :func:`engagekit.clock.now` (UTC). Inputs that are not times are
    returned unchanged (Shopify behaviour); an undefined input renders empty.
    """
    if _blank(value):
        return ""
    moment = to_datetime(value)
    if moment is None:
        return value
    if _blank(fmt) or fmt == "":
        return str(_liquid_time(moment))
    try:
        return strftime(moment, _text(fmt))
    except ValueError as err:
        raise FilterArgumentError(f"date: {err}", token=None) from err


_OFFSET = re.compile(r"([+-])(\d{1,2}):?(\d{2})?")


def _zone(name: object) -> tzinfo | None:
    text = _text(name).strip()
    if not text:
        return None
    if text.upper() in ("UTC", "Z", "GMT"):
        return UTC
    offset = _OFFSET.fullmatch(text)
    if offset:
        sign, hours, minutes = offset.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        return timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def time_zone(value: object, zone: object = None) -> object:
    """The same instant in another zone (also ``timezone``), braze-api.md §5.6.

    ``zone`` is an IANA name (``'America/Los_Angeles'``, ``${time_zone}``) or an offset
    (``'-0500'``, ``'+05:30'``). Feed the result to ``date``. An unknown zone leaves the instant in
    UTC; an input that is not a time is returned unchanged.
    """
    if _blank(value):
        return ""
    moment = to_datetime(value)
    if moment is None:
        return value
    target = _zone(zone) or UTC
    return _liquid_time(moment.astimezone(target))


def default(value: object, fallback: object = "", *, allow_false: object = False) -> object:
    """``fallback`` when ``value`` is nil, undefined, false, ``""``, ``[]`` or ``{}`` (braze-api.md §5.2).

    A blank string such as ``" "`` is *not* defaulted, nor is ``0``; ``allow_false: true`` keeps
    ``false``.
    """
    if getattr(value, "force_liquid_default", False):
        return fallback
    if value is None or isinstance(value, Undefined):
        return fallback
    if value is False:
        return value if allow_false is True else fallback
    if isinstance(value, (str, list, tuple, Mapping)) and len(value) == 0:
        return fallback
    return value


BRAZE_FILTERS: dict[str, FilterFunc] = {
    "md5": md5,
    "sha1": sha1,
    "sha2": sha2,
    "hmac_sha1": hmac_sha1_hex,
    "hmac_sha1_hex": hmac_sha1_hex,
    "hmac_sha1_base64": hmac_sha1_base64,
    "hmac_sha256": hmac_sha256_hex,
    "hmac_sha256_hex": hmac_sha256_hex,
    "hmac_sha256_base64": hmac_sha256_base64,
    "hmac_sha512": hmac_sha512,
    "base64": base64_encode,
    "base64_encode": base64_encode,
    "url_escape": url_escape,
    "url_param_escape": url_param_escape,
    "url_encode": url_encode,
    "property_accessor": property_accessor,
    "json_escape": json_escape,
    "json_parse": json_parse,
    "as_json_string": as_json_string,
    "number_with_delimiter": number_with_delimiter,
    "money": money,
    "date": date_filter,
    "time_zone": time_zone,
    "timezone": time_zone,
    "default": default,
}
"""Filters registered on :class:`~engagekit.liquid.environment.BrazeEnvironment` over python-liquid's."""
