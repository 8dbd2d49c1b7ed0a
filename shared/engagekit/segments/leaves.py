"""The built-in leaf kinds of the filter language (braze-api.md §2.6 style, extended per §3).

Each class is one JSON leaf, ``{"<kind>": {<fields>}}``; importing this module registers them all.
See docs/segments.md for the marketer-facing reference. Grouped as:

- custom data: ``custom_attribute``, ``custom_event``, ``first_did_custom_event``,
  ``last_did_custom_event``, ``custom_event_property``;
- standard data: ``standard_attribute``, ``age``, ``birthday``, ``random_bucket``;
- purchases: ``purchased_product``, ``purchase_count``, ``money_spent``, ``first_purchase``,
  ``last_purchase``;
- channels: ``email_subscription_status``, ``push_subscription_status``, ``subscription_group``,
  ``email_available``, ``push_enabled``;
- membership: ``segment``.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, ClassVar

from pydantic import Field, PrivateAttr, field_validator, model_validator

from engagekit.domain.profile import Aggregate, Profile
from engagekit.segments import calendar
from engagekit.segments.base import (
    PURCHASES,
    EvalContext,
    FieldRef,
    InvalidFilterError,
    Leaf,
    register_leaf_kind,
    standard,
)
from engagekit.segments.comparisons import (
    COMPARISONS,
    NUMBER_OPERATORS,
    DataType,
    ValueTest,
    compile_test,
)
from engagekit.segments.windows import window_changes, window_total

#: Segment ids (and references to them): 1-128 of letters, digits and ``_ . : -``.
SEGMENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
COUNT_COMPARISONS: tuple[str, ...] = tuple(NUMBER_OPERATORS)
TIME_COMPARISONS: tuple[str, ...] = COMPARISONS["time"]
STATE_COMPARISONS = ("is", "is_not")
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_choice(field: str, value: str, choices: Sequence[str], noun: str = "comparison") -> str:
    """Return ``value`` if it is one of ``choices``; else raise :class:`InvalidFilterError` at ``field``."""
    if value not in choices:
        raise InvalidFilterError(field, f"unknown {noun} {value!r} (expected one of: {', '.join(choices)})")
    return value


# -- custom attributes, event properties, standard attributes: typed value comparisons ----------


class _ValueLeaf(Leaf):
    """A leaf comparing one stored value with :func:`compile_test`."""

    _test: ValueTest = PrivateAttr()

    @abstractmethod
    def stored_value(self, ctx: EvalContext) -> object:
        """The value compared (``None`` when absent)."""

    def _applies(self, ctx: EvalContext) -> bool:
        return True

    def evaluate(self, ctx: EvalContext) -> bool:
        return self._applies(ctx) and self._test.matches(self.stored_value(ctx), ctx.now)

    def next_flip(self, ctx: EvalContext) -> datetime | None:
        if not self._test.time_dependent or not self._applies(ctx):
            return None
        return self._test.next_flip(self.stored_value(ctx), ctx.now)


@register_leaf_kind
class CustomAttributeFilter(_ValueLeaf):
    """``{"custom_attribute": {"custom_attribute_name", "comparison", "value"?, "data_type"?}}``.

    The Connected Audience filter (braze-api.md §2.6) with the §3 operators; ``data_type`` (string,
    number, boolean, time, array) is optional and inferred from the comparison and value. NULL rules:
    :mod:`engagekit.segments.comparisons`.
    """

    kind: ClassVar[str] = "custom_attribute"
    custom_attribute_name: str = Field(min_length=1, max_length=255)
    comparison: str
    value: Any = None
    data_type: DataType | None = None

    @model_validator(mode="after")
    def _compile(self) -> CustomAttributeFilter:
        self._test = compile_test(self.comparison, self.value, self.data_type)
        return self

    def stored_value(self, ctx: EvalContext) -> object:
        return ctx.profile.custom_attributes.get(self.custom_attribute_name)

    def fields(self) -> frozenset[FieldRef]:
        return frozenset({FieldRef("custom_attribute", self.custom_attribute_name)})


@register_leaf_kind
class CustomEventPropertyFilter(_ValueLeaf):
    """``{"custom_event_property": {"custom_event_name", "property_name", "comparison", "value"?,
    "data_type"?}}``: a property of the user's latest occurrence of the event.

    Only users who performed the event can match; on their latest occurrence a missing property is
    NULL and the custom attribute rules apply (braze-api.md §3, "X Custom Event Property").
    """

    kind: ClassVar[str] = "custom_event_property"
    custom_event_name: str = Field(min_length=1, max_length=255)
    property_name: str = Field(min_length=1, max_length=255)
    comparison: str
    value: Any = None
    data_type: DataType | None = None

    @model_validator(mode="after")
    def _compile(self) -> CustomEventPropertyFilter:
        self._test = compile_test(self.comparison, self.value, self.data_type)
        return self

    def _applies(self, ctx: EvalContext) -> bool:
        return self.custom_event_name in ctx.profile.events

    def stored_value(self, ctx: EvalContext) -> object:
        agg = ctx.profile.events.get(self.custom_event_name)
        return None if agg is None else agg.last_properties.get(self.property_name)

    def fields(self) -> frozenset[FieldRef]:
        return frozenset({FieldRef("event", self.custom_event_name)})


STANDARD_ATTRIBUTE_TYPES: dict[str, DataType] = {
    "external_id": "string",
    "first_name": "string",
    "last_name": "string",
    "email": "string",
    "phone": "string",
    "country": "string",
    "language": "string",
    "home_city": "string",
    "gender": "string",
    "time_zone": "string",
    "created_at": "time",
}


@register_leaf_kind
class StandardAttributeFilter(_ValueLeaf):
    """``{"standard_attribute": {"attribute_name", "comparison", "value"?}}`` over Braze's standard
    profile fields (braze-api.md §1.1.1): strings ``external_id, first_name, last_name, email, phone,
    country, language, home_city, gender, time_zone`` and the time ``created_at``."""

    kind: ClassVar[str] = "standard_attribute"
    attribute_name: str
    comparison: str
    value: Any = None

    @field_validator("attribute_name")
    @classmethod
    def _known_attribute(cls, name: str) -> str:
        return check_choice("attribute_name", name, tuple(STANDARD_ATTRIBUTE_TYPES), "standard attribute")

    @model_validator(mode="after")
    def _compile(self) -> StandardAttributeFilter:
        dtype = STANDARD_ATTRIBUTE_TYPES[self.attribute_name]
        self._test = compile_test(self.comparison, self.value, dtype, allowed=COMPARISONS[dtype])
        return self

    def stored_value(self, ctx: EvalContext) -> object:
        return getattr(ctx.profile, self.attribute_name)

    def fields(self) -> frozenset[FieldRef]:
        return frozenset({standard(self.attribute_name)})


# -- counts: all time or in the last Y UTC days --------------------------------------------------


class _CountLeaf(Leaf):
    """Occurrences compared with ``value``, all time or within the last ``days`` (1-30) UTC dates."""

    comparison: str
    value: int = Field(ge=0)
    days: int | None = Field(default=None, ge=1, le=30)

    @field_validator("comparison")
    @classmethod
    def _known_comparison(cls, comparison: str) -> str:
        return check_choice("comparison", comparison, COUNT_COMPARISONS)

    @abstractmethod
    def aggregate(self, profile: Profile) -> Aggregate | None:
        """The aggregate counted (``None``: never happened)."""

    def _holds(self, n: float) -> bool:
        return NUMBER_OPERATORS[self.comparison](n, self.value)

    def evaluate(self, ctx: EvalContext) -> bool:
        agg = self.aggregate(ctx.profile)
        if agg is None:
            return self._holds(0)
        if self.days is None:
            return self._holds(agg.count)
        return self._holds(window_total(agg.daily, self.days, ctx.now))

    def next_flip(self, ctx: EvalContext) -> datetime | None:
        agg = self.aggregate(ctx.profile)
        if self.days is None or agg is None:
            return None
        return _window_flip(agg.daily, self.days, ctx.now, self._holds)


def _window_flip(
    daily: dict[str, int] | dict[str, float], days: int, now: datetime, holds: Callable[[float], bool]
) -> datetime | None:
    total = window_total(daily, days, now)
    current = holds(total)
    for at, delta in window_changes(daily, days, now):
        total = round(total + delta, 6)
        if holds(total) != current:
            return at
    return None


@register_leaf_kind
class CustomEventFilter(_CountLeaf):
    """``{"custom_event": {"custom_event_name", "comparison", "value", "days"?}}``: how many times the
    user performed the event, all time or in the last ``days`` UTC dates (braze-api.md §3 "Custom
    Event", "X Custom Event In Y Days"). Comparisons: equals, not_equal, greater_than,
    greater_than_or_equal_to (at least), less_than, less_than_or_equal_to (at most)."""

    kind: ClassVar[str] = "custom_event"
    custom_event_name: str = Field(min_length=1, max_length=255)

    def aggregate(self, profile: Profile) -> Aggregate | None:
        return profile.events.get(self.custom_event_name)

    def fields(self) -> frozenset[FieldRef]:
        return frozenset({FieldRef("event", self.custom_event_name)})


@register_leaf_kind
class PurchasedProductFilter(_CountLeaf):
    """``{"purchased_product": {"product_id", "comparison", "value", "days"?}}``: purchases of one
    product (a purchase of quantity N counts N times, braze-api.md §1.1.3; "Purchased Product",
    "X Product Purchased In Y Days", §3)."""

    kind: ClassVar[str] = "purchased_product"
    product_id: str = Field(min_length=1, max_length=255)

    def aggregate(self, profile: Profile) -> Aggregate | None:
        return profile.products.get(self.product_id)

    def fields(self) -> frozenset[FieldRef]:
        return frozenset({FieldRef("product", self.product_id)})


@register_leaf_kind
class PurchaseCountFilter(_CountLeaf):
    """``{"purchase_count": {"comparison", "value", "days"?}}``: all purchases ("Total Number of
    Purchases", "X Purchases in Last Y Days", braze-api.md §3)."""

    kind: ClassVar[str] = "purchase_count"

    def aggregate(self, profile: Profile) -> Aggregate | None:
        return profile.purchases

    def fields(self) -> frozenset[FieldRef]:
        return frozenset({PURCHASES})


@register_leaf_kind
class MoneySpentFilter(Leaf):
    """``{"money_spent": {"comparison", "value", "days"?}}``: revenue (price x quantity) of all
    purchases, all time or in the last ``days`` UTC dates ("Money Spent", "X Money Spent in Y Days",
    braze-api.md §3; engagekit sums every purchase in the window, not Braze's last 50)."""

    kind: ClassVar[str] = "money_spent"
    comparison: str
    value: float
    days: int | None = Field(default=None, ge=1, le=30)

    @field_validator("comparison")
    @classmethod
    def _known_comparison(cls, comparison: str) -> str:
        return check_choice("comparison", comparison, COUNT_COMPARISONS)

    def _holds(self, amount: float) -> bool:
        return NUMBER_OPERATORS[self.comparison](round(amount, 6), self.value)

    def evaluate(self, ctx: EvalContext) -> bool:
        totals = ctx.profile.purchases
        if self.days is None:
            return self._holds(totals.revenue)
        return self._holds(window_total(totals.daily_revenue, self.days, ctx.now))

    def next_flip(self, ctx: EvalContext) -> datetime | None:
        if self.days is None:
            return None
        return _window_flip(ctx.profile.purchases.daily_revenue, self.days, ctx.now, self._holds)

    def fields(self) -> frozenset[FieldRef]:
        return frozenset({PURCHASES})


# -- first/last occurrence times -------------------------------------------------------------------


class _OccurrenceTimeLeaf(_ValueLeaf):
    """A time comparison over the first or last occurrence of something."""

    comparison: str
    value: Any = None

    @model_validator(mode="after")
    def _compile(self) -> _OccurrenceTimeLeaf:
        self._test = compile_test(self.comparison, self.value, "time", allowed=TIME_COMPARISONS)
        return self


@register_leaf_kind
class FirstDidCustomEventFilter(_OccurrenceTimeLeaf):
    """``{"first_did_custom_event": {"custom_event_name", "comparison", "value"?}}`` with the time
    comparisons ("First Did Custom Event", braze-api.md §3; days may be decimals)."""

    kind: ClassVar[str] = "first_did_custom_event"
    custom_event_name: str = Field(min_length=1, max_length=255)

    def stored_value(self, ctx: EvalContext) -> object:
        agg = ctx.profile.events.get(self.custom_event_name)
        return None if agg is None else agg.first

    def fields(self) -> frozenset[FieldRef]:
        return frozenset({FieldRef("event", self.custom_event_name)})


@register_leaf_kind
class LastDidCustomEventFilter(FirstDidCustomEventFilter):
    """``{"last_did_custom_event": {...}}``: as ``first_did_custom_event`` for the latest occurrence
    ("Last Did Custom Event", braze-api.md §3)."""

    kind: ClassVar[str] = "last_did_custom_event"

    def stored_value(self, ctx: EvalContext) -> object:
        agg = ctx.profile.events.get(self.custom_event_name)
        return None if agg is None else agg.last


@register_leaf_kind
class FirstPurchaseFilter(_OccurrenceTimeLeaf):
    """``{"first_purchase": {"comparison", "value"?, "product_id"?}}``: time of the first purchase,
    of any product or of ``product_id`` ("First Made Purchase", braze-api.md §3)."""

    kind: ClassVar[str] = "first_purchase"
    product_id: str | None = Field(default=None, min_length=1, max_length=255)

    def _aggregate(self, profile: Profile) -> Aggregate | None:
        if self.product_id is None:
            return profile.purchases
        return profile.products.get(self.product_id)

    def stored_value(self, ctx: EvalContext) -> object:
        agg = self._aggregate(ctx.profile)
        return None if agg is None else agg.first

    def fields(self) -> frozenset[FieldRef]:
        return frozenset({PURCHASES if self.product_id is None else FieldRef("product", self.product_id)})


@register_leaf_kind
class LastPurchaseFilter(FirstPurchaseFilter):
    """``{"last_purchase": {...}}``: as ``first_purchase`` for the latest purchase ("Last Made
    Purchase", braze-api.md §3)."""

    kind: ClassVar[str] = "last_purchase"

    def stored_value(self, ctx: EvalContext) -> object:
        agg = self._aggregate(ctx.profile)
        return None if agg is None else agg.last


# -- demographics in the user's time zone ----------------------------------------------------------


@register_leaf_kind
class AgeFilter(Leaf):
    """``{"age": {"comparison", "value"?}}``: whole years since ``dob`` on the user's local date
    (zone ``time_zone``, UTC by default). Number comparisons plus exists/does_not_exist; users
    without a ``dob`` match only ``does_not_exist`` (Braze's number NULL rule is for custom
    attributes only). A February 29 ``dob`` ages on March 1 (braze-api.md §3)."""

    kind: ClassVar[str] = "age"
    comparison: str
    value: int | None = Field(default=None, ge=0, le=200)

    @model_validator(mode="after")
    def _check(self) -> AgeFilter:
        check_choice("comparison", self.comparison, (*COUNT_COMPARISONS, "exists", "does_not_exist"))
        presence = self.comparison in ("exists", "does_not_exist")
        if presence and self.value is not None:
            raise InvalidFilterError("value", f"{self.comparison} takes no value")
        if not presence and self.value is None:
            raise InvalidFilterError("value", f"{self.comparison} needs an age in years")
        return self

    def _holds(self, age: int) -> bool:
        assert self.value is not None
        return NUMBER_OPERATORS[self.comparison](age, self.value)

    def evaluate(self, ctx: EvalContext) -> bool:
        dob = ctx.profile.dob
        if self.comparison in ("exists", "does_not_exist"):
            return (dob is not None) == (self.comparison == "exists")
        return dob is not None and self._holds(calendar.age_on(dob, ctx.local_today))

    def next_flip(self, ctx: EvalContext) -> datetime | None:
        dob = ctx.profile.dob
        if dob is None or self.value is None:
            return None
        age = calendar.age_on(dob, ctx.local_today)
        current = self._holds(age)
        # Truth can only change where the age crosses value - 1, value or value + 1.
        for candidate in sorted({age + 1, *(a for a in range(self.value - 1, self.value + 2) if a > age)}):
            if self._holds(candidate) != current:
                return calendar.start_of_local_day(calendar.date_of_age(dob, candidate), ctx.zone)
        return None

    def fields(self) -> frozenset[FieldRef]:
        return frozenset({standard("dob"), standard("time_zone")})


BIRTHDAY_COMPARISONS = (
    "is_today",
    "is_within_next_x_days",
    "on",
    "before",
    "after",
    "is_in_month",
    "exists",
    "does_not_exist",
)
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


@register_leaf_kind
class BirthdayFilter(Leaf):
    """``{"birthday": {"comparison", "value"?}}`` over ``dob`` (braze-api.md §3 "Birthday").

    - ``is_today``: the user's local date (zone ``time_zone``) is their birthday;
    - ``is_within_next_x_days`` (value 1-365): the next birthday, today included, is at most
      ``value`` days after the local date;
    - ``on`` / ``before`` / ``after`` (value ``"MM-DD"``) and ``is_in_month`` (value 1-12): the
      birthday's month and day within the calendar year, independent of the date;
    - ``exists`` / ``does_not_exist``.

    A February 29 birthday counts as March 1 in every comparison, so ``"02-29"`` is not a valid value.
    """

    kind: ClassVar[str] = "birthday"
    comparison: str
    value: int | str | None = None
    _month_day: tuple[int, int] = PrivateAttr(default=(0, 0))

    @model_validator(mode="after")
    def _check(self) -> BirthdayFilter:
        op = check_choice("comparison", self.comparison, BIRTHDAY_COMPARISONS)
        value = self.value
        if op in ("is_today", "exists", "does_not_exist"):
            if value is not None:
                raise InvalidFilterError("value", f"{op} takes no value")
        elif op == "is_within_next_x_days":
            if not isinstance(value, int) or not 1 <= value <= 365:
                raise InvalidFilterError("value", f"{op} needs a number of days from 1 to 365")
        elif op == "is_in_month":
            if not isinstance(value, int) or not 1 <= value <= 12:
                raise InvalidFilterError("value", "is_in_month needs a month number from 1 to 12")
        else:
            match = _MONTH_DAY.match(value) if isinstance(value, str) else None
            month, day = (int(match[1]), int(match[2])) if match else (0, 0)
            try:
                date(2001, month, day)  # a non-leap year: 02-29 is rejected
            except ValueError:
                hint = (
                    " (February 29 birthdays count as March 1: use 03-01)" if (month, day) == (2, 29) else ""
                )
                raise InvalidFilterError("value", f"{op} needs a month and day as 'MM-DD'{hint}") from None
            self._month_day = (month, day)
        return self

    def _holds_on(self, dob: date, today: date) -> bool:
        op = self.comparison
        if op == "exists":
            return True
        if op == "does_not_exist":
            return False
        if op == "is_today":
            return today == calendar.birthday_in_year(dob, today.year)
        if op == "is_within_next_x_days":
            assert isinstance(self.value, int)
            upcoming = calendar.birthday_in_year(dob, today.year)
            if upcoming < today:
                upcoming = calendar.birthday_in_year(dob, today.year + 1)
            return (upcoming - today).days <= self.value
        birthday = calendar.birthday_in_year(dob, 2001)
        if op == "is_in_month":
            return birthday.month == self.value
        month_day = (birthday.month, birthday.day)
        if op == "on":
            return month_day == self._month_day
        if op == "before":
            return month_day < self._month_day
        return month_day > self._month_day  # after

    def evaluate(self, ctx: EvalContext) -> bool:
        dob = ctx.profile.dob
        if dob is None:
            return self.comparison == "does_not_exist"
        return self._holds_on(dob, ctx.local_today)

    def next_flip(self, ctx: EvalContext) -> datetime | None:
        dob = ctx.profile.dob
        if dob is None or self.comparison not in ("is_today", "is_within_next_x_days"):
            return None
        today = ctx.local_today
        lead = self.value if isinstance(self.value, int) and self.comparison != "is_today" else 0
        changes: set[date] = set()
        for year in range(today.year - 1, today.year + 3):
            birthday = calendar.birthday_in_year(dob, year)
            changes.add(date.fromordinal(birthday.toordinal() - lead))  # enters the window
            changes.add(date.fromordinal(birthday.toordinal() + 1))  # leaves it
        current = self._holds_on(dob, today)
        for day in sorted(d for d in changes if d > today):
            if self._holds_on(dob, day) != current:
                return calendar.start_of_local_day(day, ctx.zone)
        return None

    def fields(self) -> frozenset[FieldRef]:
        return frozenset({standard("dob"), standard("time_zone")})


@register_leaf_kind
class RandomBucketFilter(Leaf):
    """``{"random_bucket": {"comparison", "value"}}``: the user's stable random bucket number 0-9999
    ("Random Bucket #", braze-api.md §3) compared with the number comparisons."""

    kind: ClassVar[str] = "random_bucket"
    comparison: str
    value: int = Field(ge=0, le=9999)

    @field_validator("comparison")
    @classmethod
    def _known_comparison(cls, comparison: str) -> str:
        return check_choice("comparison", comparison, COUNT_COMPARISONS)

    def evaluate(self, ctx: EvalContext) -> bool:
        return NUMBER_OPERATORS[self.comparison](ctx.profile.random_bucket, self.value)

    def fields(self) -> frozenset[FieldRef]:
        return frozenset({standard("user_id")})


# -- channels ----------------------------------------------------------------------------------------


class _StateLeaf(Leaf):
    comparison: str
    value: str
    states: ClassVar[tuple[str, ...]] = ("opted_in", "subscribed", "unsubscribed")

    @field_validator("comparison")
    @classmethod
    def _known_comparison(cls, comparison: str) -> str:
        return check_choice("comparison", comparison, STATE_COMPARISONS)

    @model_validator(mode="after")
    def _known_state(self) -> _StateLeaf:
        check_choice("value", self.value, self.states, "state")
        return self

    @abstractmethod
    def state(self, profile: Profile) -> str:
        """The user's current state."""

    def evaluate(self, ctx: EvalContext) -> bool:
        return (self.state(ctx.profile) == self.value) == (self.comparison == "is")


@register_leaf_kind
class EmailSubscriptionStatusFilter(_StateLeaf):
    """``{"email_subscription_status": {"comparison": "is"|"is_not", "value": "opted_in"|"subscribed"|
    "unsubscribed"}}`` (braze-api.md §2.6, §8)."""

    kind: ClassVar[str] = "email_subscription_status"

    def state(self, profile: Profile) -> str:
        return profile.email_subscribe

    def fields(self) -> frozenset[FieldRef]:
        return frozenset({standard("email_subscribe")})


@register_leaf_kind
class PushSubscriptionStatusFilter(_StateLeaf):
    """``{"push_subscription_status": {...}}``, as the email one (braze-api.md §2.6, §8)."""

    kind: ClassVar[str] = "push_subscription_status"

    def state(self, profile: Profile) -> str:
        return profile.push_subscribe

    def fields(self) -> frozenset[FieldRef]:
        return frozenset({standard("push_subscribe")})


@register_leaf_kind
class SubscriptionGroupFilter(_StateLeaf):
    """``{"subscription_group": {"subscription_group_id", "comparison": "is"|"is_not", "value":
    "subscribed"|"unsubscribed"}}``; a user with no recorded state for the group counts as
    ``unsubscribed`` (no consent; braze-api.md §8: SMS needs a group subscription)."""

    kind: ClassVar[str] = "subscription_group"
    states: ClassVar[tuple[str, ...]] = ("subscribed", "unsubscribed")
    subscription_group_id: str = Field(min_length=1, max_length=255)

    def state(self, profile: Profile) -> str:
        return profile.subscription_groups.get(self.subscription_group_id, "unsubscribed")

    def fields(self) -> frozenset[FieldRef]:
        return frozenset({FieldRef("subscription_group", self.subscription_group_id)})


def email_available(profile: Profile) -> bool:
    """Braze's "Email Available" (braze-api.md §3): a valid-looking address, not unsubscribed, no hard
    bounce, not marked as spam."""
    return (
        profile.email is not None
        and _EMAIL_SHAPE.match(profile.email) is not None
        and profile.email_subscribe != "unsubscribed"
        and not profile.email_hard_bounced
        and not profile.email_spam
    )


@register_leaf_kind
class EmailAvailableFilter(Leaf):
    """``{"email_available": {"value": true|false}}`` (:func:`email_available`)."""

    kind: ClassVar[str] = "email_available"
    value: bool

    def evaluate(self, ctx: EvalContext) -> bool:
        return email_available(ctx.profile) == self.value

    def fields(self) -> frozenset[FieldRef]:
        return frozenset(
            standard(n) for n in ("email", "email_subscribe", "email_hard_bounced", "email_spam")
        )


@register_leaf_kind
class PushEnabledFilter(Leaf):
    """``{"push_enabled": {"value": true|false}}``: at least one push token and push not
    unsubscribed (Braze's "Foreground Push Enabled", braze-api.md §3 and §8)."""

    kind: ClassVar[str] = "push_enabled"
    value: bool

    def evaluate(self, ctx: EvalContext) -> bool:
        profile = ctx.profile
        enabled = bool(profile.push_tokens) and profile.push_subscribe != "unsubscribed"
        return enabled == self.value

    def fields(self) -> frozenset[FieldRef]:
        return frozenset({standard("push_tokens"), standard("push_subscribe")})


# -- membership ------------------------------------------------------------------------------------


@register_leaf_kind
class SegmentFilter(Leaf):
    """``{"segment": {"segment_id"}}``: the user is in another segment ("Segment Membership",
    braze-api.md §3). The evaluator asks its ``memberships`` callback; definitions that reference
    each other in a loop are rejected (:func:`engagekit.segments.dependencies.check_acyclic`)."""

    kind: ClassVar[str] = "segment"
    segment_id: str = Field(pattern=SEGMENT_ID_PATTERN)

    def evaluate(self, ctx: EvalContext) -> bool:
        return ctx.is_member(self.segment_id)

    def fields(self) -> frozenset[FieldRef]:
        return frozenset({FieldRef("segment", self.segment_id)})
