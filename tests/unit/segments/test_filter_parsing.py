"""The filter language parser: every leaf kind parses and round-trips; every bad node is named."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import pytest
from engagekit.errors import ValidationError
from engagekit.segments import (
    AndNode,
    EvalContext,
    FieldRef,
    InvalidFilterError,
    Leaf,
    NotNode,
    OrNode,
    dump_filter,
    evaluate,
    fields,
    leaf_kinds,
    next_flip,
    parse_filter,
    parse_segment_definition,
    register_leaf_kind,
    unregister_leaf_kind,
)
from engagekit.segments.filters import MAX_DEPTH, MAX_NODES

from tests.unit.segments.conftest import T0, make_profile

# One valid example per leaf kind, as a marketer writes it (docs/segments.md uses the same shapes).
VALID: dict[str, dict[str, Any]] = {
    "custom_attribute": {
        "custom_attribute": {"custom_attribute_name": "plan", "comparison": "equals", "value": "pro"}
    },
    "custom_attribute_typed": {
        "custom_attribute": {
            "custom_attribute_name": "renewal",
            "comparison": "less_than_x_days_in_the_future",
            "value": 7,
            "data_type": "time",
        }
    },
    "standard_attribute": {
        "standard_attribute": {"attribute_name": "country", "comparison": "is_any_of", "value": ["US", "CA"]}
    },
    "created_at": {
        "standard_attribute": {
            "attribute_name": "created_at",
            "comparison": "less_than_x_days_ago",
            "value": 30,
        }
    },
    "age": {"age": {"comparison": "greater_than_or_equal_to", "value": 18}},
    "birthday": {"birthday": {"comparison": "is_within_next_x_days", "value": 7}},
    "birthday_on": {"birthday": {"comparison": "on", "value": "12-31"}},
    "custom_event": {
        "custom_event": {
            "custom_event_name": "played",
            "comparison": "greater_than_or_equal_to",
            "value": 3,
            "days": 7,
        }
    },
    "first_did": {
        "first_did_custom_event": {
            "custom_event_name": "played",
            "comparison": "before",
            "value": "2026-01-01",
        }
    },
    "last_did": {
        "last_did_custom_event": {
            "custom_event_name": "played",
            "comparison": "greater_than_x_days_ago",
            "value": 0.25,
        }
    },
    "event_property": {
        "custom_event_property": {
            "custom_event_name": "played",
            "property_name": "level",
            "comparison": "greater_than",
            "value": 10,
        }
    },
    "purchased_product": {
        "purchased_product": {"product_id": "sku-1", "comparison": "greater_than", "value": 0}
    },
    "purchase_count": {"purchase_count": {"comparison": "equals", "value": 2, "days": 30}},
    "money_spent": {"money_spent": {"comparison": "greater_than", "value": 99.5}},
    "first_purchase": {"first_purchase": {"comparison": "after", "value": "2025-12-01T00:00:00Z"}},
    "last_purchase": {
        "last_purchase": {"comparison": "less_than_x_days_ago", "value": 7, "product_id": "sku-1"}
    },
    "email_status": {"email_subscription_status": {"comparison": "is", "value": "opted_in"}},
    "push_status": {"push_subscription_status": {"comparison": "is_not", "value": "unsubscribed"}},
    "subscription_group": {
        "subscription_group": {"subscription_group_id": "news", "comparison": "is", "value": "subscribed"}
    },
    "email_available": {"email_available": {"value": True}},
    "push_enabled": {"push_enabled": {"value": False}},
    "random_bucket": {"random_bucket": {"comparison": "less_than", "value": 5000}},
    "segment": {"segment": {"segment_id": "vip"}},
    "tree": {
        "AND": [
            {"OR": [{"email_available": {"value": True}}, {"push_enabled": {"value": True}}]},
            {"NOT": {"segment": {"segment_id": "churned"}}},
        ]
    },
}


@pytest.mark.parametrize("body", VALID.values(), ids=VALID.keys())
def test_every_leaf_kind_parses_and_round_trips(body: dict[str, Any]) -> None:
    tree = parse_filter(body)
    assert parse_filter(dump_filter(tree)) == tree
    assert dump_filter(tree) == body


def test_every_registered_kind_has_a_valid_example() -> None:
    used = {next(iter(b)) for b in VALID.values()}
    assert set(leaf_kinds()) <= used


def test_tree_nodes_are_typed() -> None:
    tree = parse_filter(VALID["tree"])
    assert isinstance(tree, AndNode)
    assert isinstance(tree.children[0], OrNode)
    assert isinstance(tree.children[1], NotNode)


@dataclass
class Bad:
    name: str
    body: Any
    path: str
    problem: str


def _ca(**fields: Any) -> dict[str, Any]:
    return {"custom_attribute": {"custom_attribute_name": "n", **fields}}


OK = {"custom_attribute": {"custom_attribute_name": "plan", "comparison": "equals", "value": "pro"}}

BAD = [
    Bad(
        "unknown comparison names the node",
        {
            "AND": [
                OK,
                OK,
                {
                    "custom_attribute": {
                        "custom_attribute_name": "plan",
                        "comparison": "equal",
                        "value": "pro",
                    }
                },
            ]
        },
        "filter.AND[2].custom_attribute.comparison",
        "unknown comparison 'equal'",
    ),
    Bad(
        "unknown leaf kind",
        {"OR": [OK, {"custom_atribute": {}}]},
        "filter.OR[1]",
        "unknown filter 'custom_atribute'",
    ),
    Bad("lowercase and is not a node", {"and": [OK]}, "filter", "unknown filter 'and'"),
    Bad("two keys", {"AND": [OK], "OR": [OK]}, "filter", "exactly one key"),
    Bad("not an object", ["AND"], "filter", "got an array"),
    Bad("empty AND", {"AND": []}, "filter.AND", "non-empty array"),
    Bad("OR of an object", {"OR": OK}, "filter.OR", "non-empty array"),
    Bad("NOT of a list", {"NOT": [OK]}, "filter.NOT", "exactly one key"),
    Bad(
        "leaf body not an object",
        {"custom_attribute": "plan"},
        "filter.custom_attribute",
        "expected an object",
    ),
    Bad(
        "missing attribute name",
        {"custom_attribute": {"comparison": "exists"}},
        "filter.custom_attribute.custom_attribute_name",
        "required field missing",
    ),
    Bad(
        "unknown field",
        _ca(comparison="exists", colour="red"),
        "filter.custom_attribute.colour",
        "unknown field",
    ),
    Bad(
        "exists takes no value",
        _ca(comparison="exists", value=1),
        "filter.custom_attribute.value",
        "takes no value",
    ),
    Bad(
        "number needs a number",
        _ca(comparison="greater_than", value="5"),
        "filter.custom_attribute.value",
        "number",
    ),
    Bad(
        "equals needs a scalar",
        _ca(comparison="equals"),
        "filter.custom_attribute.value",
        "string, number or boolean",
    ),
    Bad(
        "bad regex",
        _ca(comparison="matches_regex", value="(unclosed"),
        "filter.custom_attribute.value",
        "invalid regular",
    ),
    Bad(
        "regex too long",
        _ca(comparison="matches_regex", value="a" * 32_765),
        "filter.custom_attribute.value",
        "longer",
    ),
    Bad(
        "too many values",
        _ca(comparison="is_any_of", value=[str(i) for i in range(257)]),
        "filter.custom_attribute.value",
        "at most 256",
    ),
    Bad(
        "list item type",
        _ca(comparison="is_none_of", value=["a", 3]),
        "filter.custom_attribute.value[1]",
        "string",
    ),
    Bad(
        "before needs a date",
        _ca(comparison="before", value="yesterday"),
        "filter.custom_attribute.value",
        "ISO 8601",
    ),
    Bad(
        "days must be positive",
        _ca(comparison="less_than_x_days_ago", value=0),
        "filter.custom_attribute.value",
        "> 0",
    ),
    Bad(
        "comparison outside data_type",
        _ca(comparison="before", value="2026-01-01", data_type="number"),
        "filter.custom_attribute.comparison",
        "does not apply to data_type 'number'",
    ),
    Bad(
        "unknown data_type",
        _ca(comparison="exists", data_type="date"),
        "filter.custom_attribute.data_type",
        "input",
    ),
    Bad(
        "window longer than 30 days",
        {"custom_event": {"custom_event_name": "e", "comparison": "equals", "value": 1, "days": 31}},
        "filter.custom_event.days",
        "less than or equal to 30",
    ),
    Bad(
        "count is strictly an integer",
        {"custom_event": {"custom_event_name": "e", "comparison": "equals", "value": "1"}},
        "filter.custom_event.value",
        "valid integer",
    ),
    Bad(
        "count comparisons exclude exists",
        {"purchase_count": {"comparison": "exists", "value": 1}},
        "filter.purchase_count.comparison",
        "unknown comparison 'exists'",
    ),
    Bad(
        "time comparisons only on first/last did",
        {"last_did_custom_event": {"custom_event_name": "e", "comparison": "equals", "value": 1}},
        "filter.last_did_custom_event.comparison",
        "unknown comparison 'equals'",
    ),
    Bad(
        "standard attribute name",
        {"standard_attribute": {"attribute_name": "city", "comparison": "exists"}},
        "filter.standard_attribute.attribute_name",
        "unknown standard attribute 'city'",
    ),
    Bad(
        "created_at is a time",
        {"standard_attribute": {"attribute_name": "created_at", "comparison": "equals", "value": "x"}},
        "filter.standard_attribute.comparison",
        "unknown comparison 'equals'",
    ),
    Bad(
        "Feb 29 birthday",
        {"birthday": {"comparison": "on", "value": "02-29"}},
        "filter.birthday.value",
        "use 03-01",
    ),
    Bad(
        "month out of range",
        {"birthday": {"comparison": "is_in_month", "value": 13}},
        "filter.birthday.value",
        "1 to 12",
    ),
    Bad("age needs a value", {"age": {"comparison": "less_than"}}, "filter.age.value", "needs an age"),
    Bad(
        "bucket above 9999",
        {"random_bucket": {"comparison": "equals", "value": 10_000}},
        "filter.random_bucket.value",
        "",
    ),
    Bad(
        "unknown email state",
        {"email_subscription_status": {"comparison": "is", "value": "maybe"}},
        "filter.email_subscription_status.value",
        "unknown state 'maybe'",
    ),
    Bad(
        "group states are two",
        {"subscription_group": {"subscription_group_id": "g", "comparison": "is", "value": "opted_in"}},
        "filter.subscription_group.value",
        "unknown state",
    ),
    Bad("segment id shape", {"segment": {"segment_id": "no spaces"}}, "filter.segment.segment_id", "pattern"),
    Bad(
        "email_available is a boolean",
        {"email_available": {"value": "yes"}},
        "filter.email_available.value",
        "",
    ),
]


@pytest.mark.parametrize("case", BAD, ids=[c.name for c in BAD])
def test_invalid_filters_name_the_bad_node(case: Bad) -> None:
    with pytest.raises(InvalidFilterError) as raised:
        parse_filter(case.body)
    err = raised.value
    assert isinstance(err, ValidationError) and err.status_code == 400
    assert err.path == case.path
    assert err.message.startswith(f"{case.path}: ")
    assert case.problem in err.message
    assert err.errors and err.errors[0]["path"] == case.path


def test_root_path_is_configurable_for_the_messaging_audience() -> None:
    with pytest.raises(InvalidFilterError, match=r"^audience\.AND\[0\]: unknown filter 'x'"):
        parse_filter({"AND": [{"x": {}}]}, path="audience")


def test_depth_and_size_are_bounded() -> None:
    deep: dict[str, Any] = OK
    for _ in range(MAX_DEPTH + 1):
        deep = {"NOT": deep}
    with pytest.raises(InvalidFilterError, match="nest at most"):
        parse_filter(deep)
    with pytest.raises(InvalidFilterError, match="at most 500 nodes"):
        parse_filter({"OR": [OK] * MAX_NODES})


@dataclass
class DefinitionCase:
    name: str
    segment_id: str
    body: Any
    path: str = ""


DEFINITIONS_BAD = [
    DefinitionCase("missing name", "s1", {"filter": OK}, "name"),
    DefinitionCase("blank name", "s1", {"name": "  ", "filter": OK}, "name"),
    DefinitionCase("missing filter", "s1", {"name": "x"}, "filter"),
    DefinitionCase("unknown key", "s1", {"name": "x", "filter": OK, "owner": "me"}, "owner"),
    DefinitionCase("bad id", "-s1", {"name": "x", "filter": OK}, "segment_id"),
    DefinitionCase(
        "self reference", "s1", {"name": "x", "filter": {"NOT": {"segment": {"segment_id": "s1"}}}}, "filter"
    ),
    DefinitionCase("bad filter", "s1", {"name": "x", "filter": {"AND": []}}, "filter.AND"),
]


@pytest.mark.parametrize("case", DEFINITIONS_BAD, ids=[c.name for c in DEFINITIONS_BAD])
def test_invalid_segment_definitions_are_rejected(case: DefinitionCase) -> None:
    with pytest.raises(InvalidFilterError) as raised:
        parse_segment_definition(case.segment_id, case.body)
    assert raised.value.path == case.path


def test_segment_definition_round_trips() -> None:
    definition = parse_segment_definition("vip-2026", {"name": "VIP", "filter": VALID["tree"]})
    assert definition.segment_id == "vip-2026"
    assert definition.to_json() == {"name": "VIP", "filter": VALID["tree"]}


# -- the extension point -----------------------------------------------------------------------


class OpenedEmailFilter(Leaf):
    """A stand-in for a later message-engagement leaf: true once ``opened_at`` + 1 day has passed."""

    kind: ClassVar[str] = "test_opened_email"
    campaign_id: str = ""

    def evaluate(self, ctx: EvalContext) -> bool:
        opened = ctx.profile.custom_attributes.get(f"opened:{self.campaign_id}")
        return opened is not None and ctx.now >= datetime.fromisoformat(opened)

    def fields(self) -> frozenset[FieldRef]:
        return frozenset({FieldRef("custom_attribute", f"opened:{self.campaign_id}")})

    def next_flip(self, ctx: EvalContext) -> datetime | None:
        opened = ctx.profile.custom_attributes.get(f"opened:{self.campaign_id}")
        if opened is None or ctx.now >= datetime.fromisoformat(opened):
            return None
        return datetime.fromisoformat(opened)


def test_a_new_leaf_kind_plugs_into_parser_evaluator_index_and_timers() -> None:
    register_leaf_kind(OpenedEmailFilter)
    try:
        tree = parse_filter({"NOT": {"test_opened_email": {"campaign_id": "c1"}}})
        profile = make_profile(custom_attributes={"opened:c1": "2026-03-11T00:00:00+00:00"})
        assert evaluate(tree, profile, T0) is True
        assert next_flip(tree, profile, T0) == datetime.fromisoformat("2026-03-11T00:00:00+00:00")
        assert fields(tree) == {FieldRef("custom_attribute", "opened:c1")}
        with pytest.raises(InvalidFilterError, match=r"filter.NOT.test_opened_email.colour: unknown field"):
            parse_filter({"NOT": {"test_opened_email": {"colour": 1}}})
    finally:
        unregister_leaf_kind("test_opened_email")
    with pytest.raises(InvalidFilterError, match="unknown filter 'test_opened_email'"):
        parse_filter({"test_opened_email": {}})


def test_registering_a_taken_or_reserved_kind_fails() -> None:
    class Clash(OpenedEmailFilter):
        kind: ClassVar[str] = "custom_attribute"

    class Reserved(OpenedEmailFilter):
        kind: ClassVar[str] = "AND"

    with pytest.raises(ValueError, match="already registered"):
        register_leaf_kind(Clash)
    with pytest.raises(ValueError, match="invalid leaf kind"):
        register_leaf_kind(Reserved)
