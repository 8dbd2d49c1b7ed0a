"""Personalization benchmark (issue 5): renders per second of engagekit's Braze Liquid against raw
python-liquid on the equivalent standard-Liquid template, and Jinja2 (the compiled-template
reference), for three representative templates:

- ``plain`` — attributes, a custom attribute, a trigger property, ``default``;
- ``loops_and_filters`` — a loop over an array-of-objects custom attribute with string, math, array
  and date filters;
- ``connected_content_cached`` — a ``connected_content`` call served from the response cache (raw
  python-liquid and Jinja2 get the response as plain data).

engagekit's number is the full per-recipient path a sender runs: ``Renderer.render`` with a
:class:`~engagekit.domain.profile.Profile` and a ``RenderRequest`` (namespace built per render,
result wrapped), on a template parsed once. Raw python-liquid and Jinja2 render a pre-built dict.
Goal: engagekit ≥ 0.8x raw python-liquid.

Run: ``python -m bench.bench_liquid`` (prints JSON); ``run()`` returns the same dict.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from importlib.metadata import version
from typing import Any

import jinja2
import liquid
from engagekit.domain.profile import Profile
from engagekit.liquid import (
    ConnectedContentClient,
    FakeFetcher,
    HttpResponse,
    Rendered,
    Renderer,
    RenderRequest,
    StoredTemplate,
)

GOAL_RATIO = 0.8
SECONDS_PER_MEASUREMENT = 2.0
OFFER_URL = "https://api.example.com/offers/user-42"

CART = [
    {"name": "running shoes", "qty": 1, "price": 89.5},
    {"name": "socks", "qty": 3, "price": 4.25},
    {"name": "water bottle", "qty": 2, "price": 12.0},
    {"name": "cap", "qty": 1, "price": 19.99},
    {"name": "shorts", "qty": 2, "price": 24.5},
]
OFFER = {"title": "Spring sale", "discount": 20, "products": ["shoes", "socks", "caps", "bottles"]}

TEMPLATES: dict[str, dict[str, str]] = {
    "plain": {
        "engagekit": "Hi {{${first_name} | default: 'there'}}, your plan is {{custom_attribute.${plan}}} in "
        "{{${city}}}. Use code {{api_trigger_properties.${coupon}}} before Friday.",
        "python_liquid": "Hi {{first_name | default: 'there'}}, your plan is {{custom_attribute.plan}} in "
        "{{city}}. Use code {{api_trigger_properties.coupon}} before Friday.",
        "jinja2": "Hi {{ first_name or 'there' }}, your plan is {{ custom_attribute.plan }} in "
        "{{ city }}. Use code {{ api_trigger_properties.coupon }} before Friday.",
    },
    "loops_and_filters": {
        "engagekit": "{% assign items = {{custom_attribute.${cart}}} %}{% for item in items %}"
        "{{ forloop.index }}. {{ item.name | capitalize }} x{{ item.qty }}: "
        "{{ item.price | times: item.qty | round: 2 }}\n{% endfor %}"
        "{{ items | map: 'name' | join: ', ' | upcase }}\n"
        "Member since {{ custom_attribute.${signup} | date: '%b %Y' }}",
        "python_liquid": "{% assign items = custom_attribute.cart %}{% for item in items %}"
        "{{ forloop.index }}. {{ item.name | capitalize }} x{{ item.qty }}: "
        "{{ item.price | times: item.qty | round: 2 }}\n{% endfor %}"
        "{{ items | map: 'name' | join: ', ' | upcase }}\n"
        "Member since {{ custom_attribute.signup | date: '%b %Y' }}",
        "jinja2": "{% set items = custom_attribute.cart %}{% for item in items %}"
        "{{ loop.index }}. {{ item.name | capitalize }} x{{ item.qty }}: "
        "{{ (item.price * item.qty) | round(2) }}\n{% endfor %}"
        "{{ items | map(attribute='name') | join(', ') | upper }}\n"
        "Member since {{ signup_date.strftime('%b %Y') }}",
    },
    "connected_content_cached": {
        "engagekit": "{% connected_content " + OFFER_URL[:-7] + "{{${user_id}}} :save offer %}"
        "{{offer.title}}: {{offer.discount}}% off "
        "{% for p in offer.products %}{{p}}{% unless forloop.last %}, {% endunless %}{% endfor %}",
        "python_liquid": "{{offer.title}}: {{offer.discount}}% off "
        "{% for p in offer.products %}{{p}}{% unless forloop.last %}, {% endunless %}{% endfor %}",
        "jinja2": "{{offer.title}}: {{offer.discount}}% off "
        "{% for p in offer.products %}{{p}}{% if not loop.last %}, {% endif %}{% endfor %}",
    },
}


def _profile() -> Profile:
    return Profile(
        user_id="65f0c0ffee0000000000abcd",
        external_id="user-42",
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        first_name="Janet",
        home_city="Portland",
        custom_attributes={"plan": "gold", "cart": CART, "signup": "2021-08-04T09:00:00Z"},
    )


def _plain_data() -> dict[str, Any]:
    return {
        "first_name": "Janet",
        "city": "Portland",
        "custom_attribute": {"plan": "gold", "cart": CART, "signup": "2021-08-04T09:00:00Z"},
        "api_trigger_properties": {"coupon": "SAVE10"},
        "signup_date": datetime(2021, 8, 4, 9, tzinfo=UTC),
        "offer": OFFER,
    }


def _measure(engines: dict[str, Callable[[], object]], seconds: float) -> dict[str, float]:
    """Renders per second of each engine, about ``seconds`` of wall time in all.

    The engines run interleaved in rounds of ~10 ms batches and each batch is timed in process CPU
    time, so a busy machine slows every engine alike; the median batch rate is reported.
    """
    batches: dict[str, int] = {}
    for name, fn in engines.items():
        for _ in range(20):
            fn()
        start = time.process_time()
        n = 0
        while time.process_time() - start < 0.01:
            fn()
            n += 1
        batches[name] = max(n, 1)
    rates: dict[str, list[float]] = {name: [] for name in engines}
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(rates[next(iter(rates))]) < 5:
        for name, fn in engines.items():
            n = batches[name]
            start = time.process_time()
            for _ in range(n):
                fn()
            elapsed = time.process_time() - start
            if elapsed > 0:
                rates[name].append(n / elapsed)
    return {name: statistics.median(values) for name, values in rates.items()}


def run(seconds_per_measurement: float = SECONDS_PER_MEASUREMENT) -> dict[str, Any]:
    """Measure the three templates with the three engines.

    Returns:
        ``{"benchmark": "liquid", "goal_ratio": 0.8, "templates": {name: {"engagekit_rps",
        "python_liquid_rps", "jinja2_rps", "ratio_vs_python_liquid", "meets_goal", "same_output",
        ...}}, ...}``; rates are renders per second (wall clock, one thread).
    """
    fetcher = FakeFetcher({("GET", OFFER_URL): HttpResponse(200, json.dumps(OFFER).encode())})
    renderer = Renderer(connected=ConnectedContentClient(fetcher))
    profile = _profile()
    request = RenderRequest(trigger_properties={"coupon": "SAVE10"})
    raw_env = liquid.Environment()
    jinja_env = jinja2.Environment(autoescape=False)
    data = _plain_data()

    results: dict[str, Any] = {}
    for name, sources in TEMPLATES.items():
        stored = StoredTemplate.of(f"bench-{name}", sources["engagekit"])
        raw = raw_env.from_string(sources["python_liquid"])
        jinja = jinja_env.from_string(sources["jinja2"])

        ours = renderer.render(stored, profile, request)
        if not isinstance(ours, Rendered):
            raise RuntimeError(f"{name}: engagekit did not render: {ours}")
        fetches_before = len(fetcher.requests)

        rates = _measure(
            {
                "engagekit": partial(renderer.render, stored, profile, request),
                "python_liquid": partial(raw.render, **data),
                "jinja2": partial(jinja.render, **data),
            },
            seconds_per_measurement,
        )
        ours_rps, raw_rps, jinja_rps = rates["engagekit"], rates["python_liquid"], rates["jinja2"]

        raw_text = raw.render(**data)
        results[name] = {
            "engagekit_rps": round(ours_rps),
            "python_liquid_rps": round(raw_rps),
            "jinja2_rps": round(jinja_rps),
            "ratio_vs_python_liquid": round(ours_rps / raw_rps, 3),
            "ratio_vs_jinja2": round(ours_rps / jinja_rps, 3),
            "meets_goal": ours_rps / raw_rps >= GOAL_RATIO,
            "same_output": ours.text == raw_text,
            "http_fetches_during_measurement": len(fetcher.requests) - fetches_before,
        }

    return {
        "benchmark": "liquid",
        "unit": "renders per second of process CPU time, one thread (median of interleaved batches)",
        "goal_ratio": GOAL_RATIO,
        "python_liquid_version": version("python-liquid"),
        "jinja2_version": version("jinja2"),
        "seconds_per_measurement": seconds_per_measurement,
        "templates": results,
        "all_meet_goal": all(r["meets_goal"] for r in results.values()),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
