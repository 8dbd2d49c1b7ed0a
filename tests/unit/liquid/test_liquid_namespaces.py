"""Braze attribute syntax and namespaces render the documented values (braze-api.md §5.1)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from engagekit.domain.profile import Profile
from engagekit.liquid import CampaignInfo, CanvasInfo, Rendered, Renderer, RenderRequest

REQUEST = RenderRequest(
    trigger_properties={"coupon": "SAVE10", "order": {"id": 7, "items": [{"sku": "A"}]}},
    canvas_entry_properties={"cart_id": "c-1", "total": 30},
    context={"step_note": "hello"},
    event_properties={"rewards_redeemed": 145, "geofence_name": "Store 1"},
    campaign=CampaignInfo(api_id="camp-1", name="Spring", dispatch_id="d-1", message_name="Email A"),
    canvas=CanvasInfo(api_id="cv-1", name="Onboarding", variant_name="V1", variant_api_id="var-1"),
    device={"platform": "ios", "model": "iPhone15,2", "most_recent_locale": "en_US"},
    extras={"set_user_to_unsubscribed_url": "https://u.example/unsub"},
)


@dataclass
class Case:
    name: str
    template: str
    expected: str
    request: RenderRequest = field(default_factory=lambda: REQUEST)


CASES = [
    Case("user_id is the external id", "{{${user_id}}}", "user-42"),
    Case("braze_id is the internal id", "{{${braze_id}}}", "65f0c0ffee0000000000abcd"),
    Case("first_name", "Hi {{${first_name}}}!", "Hi Janet!"),
    Case("spaces inside the braces", "{{ ${last_name} }}", "Doe"),
    Case("email_address", "{{${email_address}}}", "janet@example.com"),
    Case("phone_number", "{{${phone_number}}}", "+15555550100"),
    Case("country and language", "{{${country}}}/{{${language}}}", "US/en"),
    Case("time_zone", "{{${time_zone}}}", "America/Los_Angeles"),
    Case("date_of_birth", "{{${date_of_birth}}}", "1990-06-03"),
    Case("gender and city", "{{${gender}}} {{${city}}}", "F Portland"),
    Case("random bucket is 0..9999", "{% if ${random_bucket_number} >= 0 %}ok{% endif %}", "ok"),
    Case("device locale from the request", "{{${most_recent_locale}}}", "en_US"),
    Case("unset standard attribute renders empty", "[{{${most_recent_app_version}}}]", "[]"),
    Case("custom attribute with a space", "{{custom_attribute.${zip code}}}", "97201"),
    Case("custom attribute number", "{{custom_attribute.${visits}}}", "3"),
    Case("unset custom attribute renders empty", "[{{custom_attribute.${nope}}}]", "[]"),
    Case("nested object, dotted name", "{{custom_attribute.${address.city}}}", "Portland"),
    Case("nested object, path after the braces", "{{custom_attribute.${address}.street}}", "1 Main St"),
    Case("array of objects index", "{{custom_attribute.${most_played_song}[0].artist_name}}", "Nina Simone"),
    Case(
        "array of objects loop",
        "{% assign pets = {{custom_attribute.${pets}}} %}{% for pet in pets %}{{pet.name}};{% endfor %}",
        "Rex;Tom;",
    ),
    Case("brackets optional in tags", "{% if custom_attribute.${visits} == 3 %}three{% endif %}", "three"),
    Case("brackets present in tags", "{% if {{custom_attribute.${visits}}} == 3 %}three{% endif %}", "three"),
    Case(
        "nested output in a filter argument",
        "{% assign b = {{custom_attribute.${visits}}} %}{{custom_attribute.${visits} | plus: {{b}}}}",
        "6",
    ),
    Case("event_properties", "{{event_properties.${rewards_redeemed}}}", "145"),
    Case("geofence event property", "{{event_properties.${geofence_name}}}", "Store 1"),
    Case("api_trigger_properties", "{{api_trigger_properties.${coupon}}}", "SAVE10"),
    Case("nested trigger property", "{{api_trigger_properties.${order}.items[0].sku}}", "A"),
    Case("canvas_entry_properties", "{{canvas_entry_properties.${cart_id}}}", "c-1"),
    Case("context holds entry properties", "{{context.${total}}}", "30"),
    Case("context holds context variables", "{{context.${step_note}}}", "hello"),
    Case(
        "campaign fields",
        "{{campaign.${api_id}}} {{campaign.${name}}} {{campaign.${dispatch_id}}}",
        "camp-1 Spring d-1",
    ),
    Case("campaign message name", "{{campaign.${message_name}}}", "Email A"),
    Case(
        "canvas fields",
        "{{canvas.${name}}} {{canvas.${variant_name}}} {{canvas.${api_id}}}",
        "Onboarding V1 cv-1",
    ),
    Case("email subscription state", "{{subscribed_state.${email_global}}}", "opted_in"),
    Case(
        "subscription group state",
        "{{subscribed_state.${sg-news}}}/{{subscribed_state.${sg-sms}}}",
        "subscribed/unsubscribed",
    ),
    Case("device namespace from the request", "{{most_recently_used_device.${platform}}}", "ios"),
    Case(
        "device id from the last push token",
        "{{most_recently_used_device.${id}}}",
        "device-9",
        RenderRequest(),
    ),
    Case("channel extras are top level", "{{${set_user_to_unsubscribed_url}}}", "https://u.example/unsub"),
    Case("event aggregate count", "{{events.${added_to_cart}.count}}", "2"),
    Case("event aggregate last properties", "{{events.${added_to_cart}.last_properties.sku}}", "X2"),
    Case("event aggregate last time", "{{events.${added_to_cart}.last}}", "2026-03-15T10:00:00.000Z"),
    Case(
        "purchase totals",
        "{{purchases.${count}}} {{purchases.${revenue}}} {{purchases.${currency}}}",
        "2 19.0 USD",
    ),
    Case("product aggregate", "{{products.${sku-1}.quantity}}", "2"),
    Case("standard Liquid variable without ${} is a plain variable", "[{{ user_id_missing }}]", "[]"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_namespace_renders_documented_value(case: Case, renderer: Renderer, profile: Profile) -> None:
    result = renderer.render(case.template, profile, case.request)

    assert result == Rendered(text=case.expected)


def test_every_attribute_renders_empty_without_a_profile(renderer: Renderer) -> None:
    template = (
        "[{{${first_name}}}{{custom_attribute.${x}}}"
        "{{subscribed_state.${email_global}}}{{events.${e}.count}}]"
    )

    result = renderer.render(template, None)

    assert result == Rendered(text="[]")
