"""The data a template sees: a :class:`~engagekit.domain.profile.Profile` plus a :class:`RenderRequest`.

Names follow Braze's personalization tags (braze-api.md §5.1); ``${x}`` in a template is the
top-level name ``x`` here, and ``ns.${x}`` is key ``x`` of namespace ``ns``.

Standard attributes (top level; unset values are ``nil`` and render empty):
    ``user_id`` (the external id), ``braze_id`` (engagekit's internal id), ``first_name``,
    ``last_name``, ``email_address``, ``phone_number``, ``country``, ``language``, ``time_zone``,
    ``date_of_birth`` (``YYYY-MM-DD``), ``gender``, ``city``, ``random_bucket_number`` (0..9999),
    ``last_used_app_date``, ``most_recent_app_version``, ``most_recent_locale``,
    ``most_recent_location`` (from ``RenderRequest.device`` when the sender knows them), plus
    every key of ``RenderRequest.extras`` (channel values such as
    ``set_user_to_unsubscribed_url`` or ``email_footer``).

Namespaces:
    ``custom_attribute``, ``event_properties``, ``api_trigger_properties``,
    ``canvas_entry_properties``, ``context`` (Canvas context = entry properties updated by
    ``RenderRequest.context``), ``campaign`` (``api_id``, ``campaign_id``, ``dispatch_id``,
    ``name``, ``message_name``, ``message_api_id``), ``canvas`` (``api_id``, ``name``,
    ``variant_name``, ``variant_api_id``), ``subscribed_state`` (``email_global``,
    ``push_global`` and one key per subscription group id), ``most_recently_used_device``
    (``id``, ``platform``, ``model``, ``os``, ``carrier``, ``browser``, ``idfa``, ...). Keys with dots
    (``custom_attribute.${address.city}``) walk nested objects, braze-api.md §5.1 / §11.7.

Profile aggregates (engagekit extension; times are ISO 8601 UTC strings):
    ``purchases`` — ``count``, ``revenue``, ``currency``, ``first``, ``last``;
    ``products.${product_id}`` — ``count``, ``quantity``, ``revenue``, ``first``, ``last``;
    ``events.${event_name}`` — ``count``, ``first``, ``last``, ``last_properties``;
    ``*.daily`` — counts per UTC day (``YYYY-MM-DD``) for the last 30 days.

``now`` and ``today`` read :func:`engagekit.clock.now` (UTC), never the system clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engagekit import clock
from engagekit.clock import utc_iso
from engagekit.domain.profile import Aggregate, Profile

_EMPTY: Mapping[str, Any] = {}


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    """``campaign.${...}``: the campaign (or, inside a Canvas, the step) being sent."""

    api_id: str | None = None
    name: str | None = None
    dispatch_id: str | None = None
    message_name: str | None = None
    message_api_id: str | None = None

    def as_mapping(self) -> dict[str, Any]:
        return {
            "api_id": self.api_id,
            "campaign_id": self.api_id,
            "name": self.name,
            "dispatch_id": self.dispatch_id,
            "message_name": self.message_name,
            "message_api_id": self.message_api_id,
        }


@dataclass(frozen=True, slots=True)
class CanvasInfo:
    """``canvas.${...}``: the Canvas (journey) and variant being sent."""

    api_id: str | None = None
    name: str | None = None
    variant_name: str | None = None
    variant_api_id: str | None = None

    def as_mapping(self) -> dict[str, Any]:
        return {
            "api_id": self.api_id,
            "name": self.name,
            "variant_name": self.variant_name,
            "variant_api_id": self.variant_api_id,
        }


@dataclass(frozen=True, slots=True)
class RenderRequest:
    """Everything a render needs besides the profile and the template.

    ``trigger_properties`` are the API trigger properties of a campaign send (≤ 50 KB, braze-api.md
    §9); ``canvas_entry_properties`` and ``context`` the Canvas ones; ``event_properties`` the
    properties of the event that triggered an action-based send. ``device`` fills
    ``most_recently_used_device`` (and ``most_recent_*``); ``extras`` adds top-level names a channel
    provides (unsubscribe URLs, ``email_footer``, ``sms``, ``app``, ...).

    ``attempt`` counts earlier renders of this same send that returned
    :class:`~engagekit.liquid.results.Retry` (0 on the first try); ``preview`` marks a render for a
    template author (no retries, braze-api.md §5.4).
    """

    trigger_properties: Mapping[str, Any] = field(default_factory=dict)
    canvas_entry_properties: Mapping[str, Any] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)
    event_properties: Mapping[str, Any] = field(default_factory=dict)
    campaign: CampaignInfo = field(default_factory=CampaignInfo)
    canvas: CanvasInfo = field(default_factory=CanvasInfo)
    device: Mapping[str, Any] = field(default_factory=dict)
    extras: Mapping[str, Any] = field(default_factory=dict)
    attempt: int = 0
    preview: bool = False


class DottedMapping(Mapping[str, Any]):
    """A read-only view of JSON-like data where ``"a.b"`` also means ``data["a"]["b"]``.

    Braze documents nested access both as ``custom_attribute.${obj}.key`` and
    ``custom_attribute.${obj.key}`` (braze-api.md §11.7); a literal key with a dot wins.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        data = self._data
        try:
            return data[key]
        except KeyError:
            if not isinstance(key, str) or "." not in key:
                raise
        value: Any = data
        for part in key.split("."):
            if isinstance(value, Mapping):
                value = value[part]
            elif isinstance(value, list) and part.lstrip("-").isdigit():
                try:
                    value = value[int(part)]
                except IndexError:
                    raise KeyError(key) from None
            else:
                raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except (KeyError, TypeError):
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __str__(self) -> str:
        return str(dict(self._data))


def _aggregate(agg: Aggregate, **more: Any) -> dict[str, Any]:
    return {
        "count": agg.count,
        "first": utc_iso(agg.first) if agg.first else None,
        "last": utc_iso(agg.last) if agg.last else None,
        "daily": dict(agg.daily),
        **more,
    }


def _custom(p: Profile | None, r: RenderRequest) -> object:
    return DottedMapping(p.custom_attributes if p else _EMPTY)


def _subscribed_state(p: Profile | None, r: RenderRequest) -> object:
    if p is None:
        return _EMPTY
    return {"email_global": p.email_subscribe, "push_global": p.push_subscribe, **p.subscription_groups}


def _device(p: Profile | None, r: RenderRequest) -> object:
    if r.device:
        return DottedMapping(r.device)
    if p is not None and p.push_tokens:
        return {"id": p.push_tokens[-1].device_id}
    return None


def _events(p: Profile | None, r: RenderRequest) -> object:
    if p is None:
        return _EMPTY
    return {
        name: _aggregate(agg, last_properties=dict(agg.last_properties)) for name, agg in p.events.items()
    }


def _products(p: Profile | None, r: RenderRequest) -> object:
    if p is None:
        return _EMPTY
    return {
        name: _aggregate(agg, quantity=agg.quantity, revenue=agg.revenue) for name, agg in p.products.items()
    }


def _purchases(p: Profile | None, r: RenderRequest) -> object:
    if p is None:
        return _EMPTY
    totals = p.purchases
    return _aggregate(totals, revenue=totals.revenue, currency=totals.currency)


def _attr(name: str) -> Callable[[Profile | None, RenderRequest], object]:
    def get(p: Profile | None, r: RenderRequest) -> object:
        return getattr(p, name) if p is not None else None

    return get


def _device_attr(name: str) -> Callable[[Profile | None, RenderRequest], object]:
    def get(p: Profile | None, r: RenderRequest) -> object:
        return r.device.get(name)

    return get


def _now(p: Profile | None, r: RenderRequest) -> datetime:
    return clock.now()


_RESOLVERS: dict[str, Callable[[Profile | None, RenderRequest], object]] = {
    "user_id": _attr("external_id"),
    "braze_id": _attr("user_id"),
    "first_name": _attr("first_name"),
    "last_name": _attr("last_name"),
    "email_address": _attr("email"),
    "phone_number": _attr("phone"),
    "country": _attr("country"),
    "language": _attr("language"),
    "time_zone": _attr("time_zone"),
    "gender": _attr("gender"),
    "city": _attr("home_city"),
    "date_of_birth": lambda p, r: p.dob.isoformat() if p is not None and p.dob else None,
    "random_bucket_number": lambda p, r: p.random_bucket if p is not None else None,
    "last_used_app_date": _device_attr("last_used_app_date"),
    "most_recent_app_version": _device_attr("most_recent_app_version"),
    "most_recent_locale": _device_attr("most_recent_locale"),
    "most_recent_location": _device_attr("most_recent_location"),
    "custom_attribute": _custom,
    "event_properties": lambda p, r: DottedMapping(r.event_properties),
    "api_trigger_properties": lambda p, r: DottedMapping(r.trigger_properties),
    "canvas_entry_properties": lambda p, r: DottedMapping(r.canvas_entry_properties),
    "context": lambda p, r: DottedMapping({**r.canvas_entry_properties, **r.context}),
    "campaign": lambda p, r: r.campaign.as_mapping(),
    "canvas": lambda p, r: r.canvas.as_mapping(),
    "subscribed_state": _subscribed_state,
    "most_recently_used_device": _device,
    "events": _events,
    "products": _products,
    "purchases": _purchases,
    "now": _now,
    "today": _now,
}

NAMES: frozenset[str] = frozenset(_RESOLVERS)
"""Every name the namespace defines before ``RenderRequest.extras``."""


class BrazeNamespace(dict[str, object]):
    """The globals of one render, computed lazily on first use and then memoized.

    A ``dict`` whose ``__missing__`` resolves a name from the profile and request the first time a
    template reads it; later reads are plain dict lookups. Building it costs one object, and a
    template that reads only ``${first_name}`` never converts the profile's aggregates.
    ``in``, ``len`` and iteration see every name the namespace can resolve.
    """

    __slots__ = ("_profile", "_request")

    def __init__(self, profile: Profile | None, request: RenderRequest) -> None:
        super().__init__()
        self._profile = profile
        self._request = request

    def __missing__(self, key: str) -> object:
        resolver = _RESOLVERS.get(key)
        value = self._request.extras[key] if resolver is None else resolver(self._profile, self._request)
        self[key] = value
        return value

    def get(self, key: str, default: object = None) -> object:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return key in _RESOLVERS or key in self._request.extras

    def __iter__(self) -> Iterator[str]:
        yield from _RESOLVERS
        yield from (k for k in self._request.extras if k not in _RESOLVERS)

    def keys(self) -> list[str]:  # type: ignore[override]
        return list(self)

    def __len__(self) -> int:
        extras = self._request.extras
        if not extras:
            return len(_RESOLVERS)
        return len(_RESOLVERS) + sum(1 for k in extras if k not in _RESOLVERS)

    def __bool__(self) -> bool:
        return True  # never empty, though nothing is resolved yet
