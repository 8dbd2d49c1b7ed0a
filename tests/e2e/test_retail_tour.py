"""The README's Online Retail tour, end to end over HTTP, checked against the CSV itself.

The steps are the README's, run the way a user runs them: ``engagekit replay --shift-to-today
--emails`` of the 3-day sample, ``engagekit apply examples/retail``, the email campaign sent through
``/campaigns/trigger/send`` to a few customers with trigger properties and then as a broadcast to its
segment, the webhook campaign broadcast to its segment, ``engagekit outbox`` and ``engagekit query``
(typer's CliRunner, configured only by the environment variables a user sets). Every expected
number and message text is computed in this file from the CSV (``engagekit.replay.expected``),
never read back from the platform.

One honest deviation: ``engagekit local`` sends webhooks through the Connected Content SSRF guard,
which refuses loopback addresses (the README says so), so here the ``send_webhook`` function gets a
client allowed to reach this test's loopback receiver only (the helper the campaigns tests use),
and the webhook campaign's URL is pointed at the receiver's free port.

Skips with the reason when ``../shared/data`` (or ``ENGAGEKIT_DATA_DIR``) is absent.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from engagekit import clock
from engagekit.channels import service as channels
from engagekit.cli import app
from engagekit.clock import ScaledClock
from engagekit.replay import CustomerTotals, expected_anonymous, expected_customers, synthetic_email
from typer.testing import CliRunner

from infra.local.runtime import LocalPlatform
from infra.manifest import MANIFEST
from tests.conftest import DATA_DIR, ROOT
from tests.e2e.conftest import Http

ROUTES = {route.route_key for route, _ in MANIFEST.routes()}
NEEDED = ("POST /users/track", "PUT /segments/{segment_id}", "POST /campaigns/trigger/send")
pytestmark = pytest.mark.skipif(
    not all(r in ROUTES for r in NEEDED), reason=f"the tour needs {', '.join(NEEDED)} in infra/manifest.py"
)
EXAMPLES = ROOT / "examples" / "retail"
SEGMENTS = ("uk_big_spenders", "lapsed_customers", "cancelled_an_order")
# Step 4 of the tour: the request-level properties, one per-recipient override, one attribute.
TRIGGER = {"subject": "A thank-you for our best customers", "coupon": "THANKS15", "discount": 15}
FIRST_NAME = {"15061": "Ada"}
OVERRIDE = {"13777": {"coupon": "VIP20", "discount": 20}}
OUTSIDER = "12583"  # a customer in France: not in the campaign's segment
NOTE = "call back today"


# --- the oracle: the CSV -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Oracle:
    customers: dict[str, CustomerTotals]
    anonymous: dict[str, CustomerTotals]
    now_s: float

    @property
    def units(self) -> int:
        return sum(c.purchase_count for c in [*self.customers.values(), *self.anonymous.values()])

    @property
    def cancellations(self) -> int:
        return sum(c.cancellations for c in [*self.customers.values(), *self.anonymous.values()])

    def segment(self, segment_id: str) -> set[str]:
        """Members by external id (alias-only users as ``invoice:<InvoiceNo>``), from the filters'
        documented meaning (docs/segments.md), on the CSV's numbers."""
        everyone = {**self.customers, **{f"invoice:{k}": v for k, v in self.anonymous.items()}}
        if segment_id == "uk_big_spenders":  # external_id exists, country GB, > £500 in 30 days
            return {k for k, c in self.customers.items() if c.country == "GB" and c.revenue > 500}
        if segment_id == "lapsed_customers":  # last purchase more than 30 days ago
            cutoff = self.now_s - 30 * 86_400
            return {
                k for k, c in everyone.items() if c.last_purchase and c.last_purchase.timestamp() < cutoff
            }
        if segment_id == "cancelled_an_order":
            return {k for k, c in everyone.items() if c.cancellations > 0}
        raise KeyError(segment_id)


def email_body(c: CustomerTotals, first_name: str | None, props: dict[str, Any]) -> str:
    """The email top_products_email.yaml must render for ``c``, written out in Python."""
    greeting = first_name or f"customer {c.external_id}"
    lines = [
        f"<p>Hello {greeting},</p>",
        f"<p>thank you for your {c.purchase_count:,} purchases",
        f"(£{c.revenue:,.2f}). Your top products:</p>",
        "<ol>",
        *(
            f"  <li>{code}: {c.products[code].count} bought, £{c.products[code].revenue:,.2f}</li>"
            for code in c.top_products(3)
        ),
        "</ol>",
    ]
    if props.get("coupon"):
        lines.append(
            f"<p>Use code <b>{props['coupon']}</b> for {props.get('discount', 10)}% off your next order.</p>"
        )
    return "\n".join(lines) + "\n"


# --- the platform and the user's tools -----------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> Path:
    path = DATA_DIR / "online-retail" / "sample-2010-12-01-to-03.csv"
    if not path.exists():
        pytest.skip(f"Online Retail sample not found at {path} (set ENGAGEKIT_DATA_DIR)")
    return path


class Receiver(ThreadingHTTPServer):
    """The webhook receiver of step 6 (in process, on a free port)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        super().__init__(("127.0.0.1", 0), _Receive)


class _Receive(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
        key = self.headers.get("Idempotency-Key")
        self.server.calls.append({"path": self.path, "key": key, "body": body})
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def platform(sample: Path, receiver: Receiver) -> Iterator[LocalPlatform]:
    from tests.integration.campaigns.conftest import loopback_webhooks

    with LocalPlatform(clock=ScaledClock(1.0), api_port=0, aws_port=0) as running:
        # step 2 of the tour: SES sends only from verified identities
        boto3.client(
            "sesv2",
            endpoint_url=running.aws_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        ).create_email_identity(EmailIdentity="example.com")
        channels.install("send_webhook", loopback_webhooks(receiver.server_address[1]))
        try:
            yield running
        finally:
            channels.install("send_webhook", None)


@pytest.fixture(scope="module")
def http(platform: LocalPlatform) -> Http:
    assert platform.api_key
    return Http(platform.api_url, platform.api_key)


def cli(platform: LocalPlatform, *args: str) -> str:
    """Run ``engagekit ARGS`` as a user would after exporting the key; returns stdout."""
    env = {
        "ENGAGEKIT_API_URL": platform.api_url,
        "ENGAGEKIT_AWS_ENDPOINT": platform.aws_url,
        "ENGAGEKIT_API_KEY": platform.api_key or "",
    }
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result.stdout


def ok(http: Http, method: str, path: str, body: Any = None, status: int = 201) -> dict[str, Any]:
    got, _, out = http.call(method, path, body)
    assert got == status, out
    assert isinstance(out, dict)
    return out


def wait_for(check: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def finished(http: Http, dispatch_id: str) -> dict[str, Any]:
    """``GET /dispatches/{id}`` once the dispatch is complete (its target and outcome counts)."""
    found: dict[str, Any] = {}

    def complete() -> bool:
        code, _, out = http.call("GET", f"/dispatches/{dispatch_id}")
        found.update(out if code == 200 else {})
        return code == 200 and out.get("status") == "complete"

    wait_for(complete, f"dispatch {dispatch_id}")
    return found


def emails(platform: LocalPlatform) -> list[dict[str, Any]]:
    return list(json.loads(cli(platform, "outbox", "--channel", "email", "--limit", "100000", "--json")))


def query(platform: LocalPlatform, sql: str) -> list[dict[str, Any]]:
    rows = json.loads(cli(platform, "query", sql, "--format", "json"))
    assert isinstance(rows, list)
    return rows


# --- the tour's steps, in order --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def replayed(platform: LocalPlatform, sample: Path) -> dict[str, Any]:
    """Step 1: ``engagekit replay --shift-to-today --emails`` (the sample, by --file)."""
    summary = json.loads(
        cli(platform, "replay", "--shift-to-today", "--emails", "--file", str(sample), "--json")
    )
    assert isinstance(summary, dict)
    return summary


@pytest.fixture(scope="module")
def oracle(sample: Path, replayed: dict[str, Any]) -> Oracle:
    shift = int(replayed["shift_days"])
    return Oracle(
        expected_customers(sample, shift_days=shift),
        expected_anonymous(sample, shift_days=shift),
        clock.now().timestamp(),
    )


@pytest.fixture(scope="module")
def applied(
    platform: LocalPlatform, http: Http, receiver: Receiver, replayed: dict[str, Any]
) -> dict[str, Any]:
    """Step 3: ``engagekit apply examples/retail``, then the segments once live."""
    out = cli(platform, "apply", str(EXAMPLES))
    assert "5 definitions: 5 changed, 0 unchanged, 0 failed" in out
    # the receiver listens on a free port, not the README's 9000: point the campaign at it
    hook = yaml.safe_load((EXAMPLES / "cancellation_webhook.yaml").read_text())
    url = hook["messages"]["webhook"]["url"]
    assert url.startswith("http://127.0.0.1:9000/")
    hook["messages"]["webhook"]["url"] = url.replace(":9000/", f":{receiver.server_address[1]}/")
    ok(http, "PUT", "/campaigns/cancellation_webhook", hook, status=200)
    segments: dict[str, Any] = {}

    def live() -> bool:
        for s in SEGMENTS:
            segments[s] = ok(http, "GET", f"/segments/{s}", status=200)
        return all(seg["state"] == "live" for seg in segments.values())

    wait_for(live, "the segments to be built")
    return segments


def members(http: Http, segment_id: str) -> set[str]:
    out: set[str] = set()
    cursor: str | None = None
    while True:
        page = ok(
            http,
            "GET",
            f"/segments/{segment_id}/users?limit=1000" + (f"&cursor={cursor}" if cursor else ""),
            status=200,
        )
        out |= {u["external_id"] or f"user:{u['user_id']}" for u in page["users"]}
        cursor = page["next_cursor"]
        if not cursor:
            return out


@pytest.fixture(scope="module")
def triggered(http: Http, applied: dict[str, Any], oracle: Oracle) -> dict[str, Any]:
    """Step 4: three big spenders and one customer outside the segment, with trigger properties."""
    recipients: list[dict[str, Any]] = []
    for cid in (*FIRST_NAME, *OVERRIDE, "17850", OUTSIDER):
        r: dict[str, Any] = {"external_user_id": cid}
        if cid in FIRST_NAME:
            r["attributes"] = {"first_name": FIRST_NAME[cid]}
        if cid in OVERRIDE:
            r["trigger_properties"] = OVERRIDE[cid]
        recipients.append(r)
    body = {"campaign_id": "top_products_email", "trigger_properties": TRIGGER, "recipients": recipients}
    dispatch_id = ok(http, "POST", "/campaigns/trigger/send", body)["dispatch_id"]
    return {
        "dispatch_id": dispatch_id,
        "recipients": [r["external_user_id"] for r in recipients],
        **finished(http, dispatch_id),
    }


@pytest.fixture(scope="module")
def broadcast(http: Http, triggered: dict[str, Any]) -> dict[str, Any]:
    """Step 5: the same campaign as a broadcast to its segment."""
    body = {"campaign_id": "top_products_email", "broadcast": True}
    dispatch_id = ok(http, "POST", "/campaigns/trigger/send", body)["dispatch_id"]
    return {"dispatch_id": dispatch_id, **finished(http, dispatch_id)}


@pytest.fixture(scope="module")
def webhooks(http: Http, applied: dict[str, Any], receiver: Receiver) -> dict[str, Any]:
    """Step 6: the webhook campaign as a broadcast to cancelled_an_order."""
    body = {"campaign_id": "cancellation_webhook", "broadcast": True, "trigger_properties": {"note": NOTE}}
    dispatch_id = ok(http, "POST", "/campaigns/trigger/send", body)["dispatch_id"]
    return {"dispatch_id": dispatch_id, **finished(http, dispatch_id)}


# --- what the user sees, against the CSV ---------------------------------------------------------


def test_the_replay_sends_every_line_of_the_sample_without_errors(
    replayed: dict[str, Any], oracle: Oracle
) -> None:
    assert replayed["errors"] == 0, replayed["error_reasons"]
    assert replayed["rows"] == 7419
    assert replayed["customers"] == len(oracle.customers)
    assert replayed["anonymous"] == len(oracle.anonymous)
    assert replayed["units"] == oracle.units
    assert replayed["events"] == oracle.cancellations


def test_segment_sizes_and_members_are_those_the_csv_gives(
    http: Http, applied: dict[str, Any], oracle: Oracle
) -> None:
    sizes = {s: applied[s]["size"] for s in SEGMENTS}
    want = {s: oracle.segment(s) for s in SEGMENTS}
    assert sizes == {s: len(m) for s, m in want.items()}
    assert members(http, "uk_big_spenders") == want["uk_big_spenders"]
    assert {m for m in members(http, "cancelled_an_order") if not m.startswith("user:")} == {
        m for m in want["cancelled_an_order"] if not m.startswith("invoice:")
    }
    assert sizes["uk_big_spenders"] > 10 and sizes["cancelled_an_order"] > 10  # the sample is not degenerate


def test_api_triggered_emails_greet_each_customer_with_their_top_products(
    platform: LocalPlatform, triggered: dict[str, Any], oracle: Oracle
) -> None:
    uk = oracle.segment("uk_big_spenders")
    reached = [cid for cid in triggered["recipients"] if cid in uk]
    assert OUTSIDER not in uk and len(reached) == 3
    assert triggered["target"] == 3 and triggered["counts"] == {"sent": 3}
    sent = {m["to"]: m["detail"] for m in emails(platform)}
    assert set(sent) == {synthetic_email(cid) for cid in reached}  # the outsider got nothing
    for cid in reached:
        props = {**TRIGGER, **OVERRIDE.get(cid, {})}
        detail = sent[synthetic_email(cid)]
        assert detail["subject"] == TRIGGER["subject"]
        assert detail["body"] == email_body(oracle.customers[cid], FIRST_NAME.get(cid), props), cid


def test_the_broadcast_reaches_every_other_member_once_with_the_defaults(
    platform: LocalPlatform, triggered: dict[str, Any], broadcast: dict[str, Any], oracle: Oracle
) -> None:
    uk = oracle.segment("uk_big_spenders")
    already = {cid for cid in triggered["recipients"] if cid in uk}
    # re-eligibility is off (Braze's default): the API recipients are skipped
    assert broadcast["target"] == len(uk)
    assert broadcast["counts"] == {"sent": len(uk) - len(already), "aborted": len(already)}
    sent = Counter(m["to"] for m in emails(platform))
    assert sent == Counter({synthetic_email(cid): 1 for cid in uk})
    by_address = {m["to"]: m["detail"] for m in emails(platform)}
    for cid in sorted(uk - already):
        detail = by_address[synthetic_email(cid)]
        assert detail["subject"] == "Your favourites are waiting"
        assert detail["body"] == email_body(oracle.customers[cid], None, {}), cid


def test_webhooks_carry_each_users_latest_cancellation(
    webhooks: dict[str, Any], receiver: Receiver, oracle: Oracle
) -> None:
    cancelled = {k: c for k, c in oracle.customers.items() if c.cancellations}
    assert webhooks["target"] == len(oracle.segment("cancelled_an_order"))
    assert webhooks["counts"] == {"sent": webhooks["target"]}
    got = {call["path"]: json.loads(call["body"]) for call in receiver.calls}
    # one message per user: a retry (a slow answer) repeats the same idempotency key
    keys = {(call["path"], call["key"]) for call in receiver.calls}
    assert len(keys) == len(got)
    want = {
        f"/hooks/cancellations/{cid}": {
            "external_id": cid,
            "cancelled_lines": c.cancellations,
            "last_invoice": c.last_cancelled_invoice,
            "last_product": c.last_cancelled_product,
            "note": NOTE,
        }
        for cid, c in cancelled.items()
    }
    assert {p: b for p, b in got.items() if p in want} == want


def test_currents_counts_match_what_was_ingested_and_sent(
    platform: LocalPlatform,
    triggered: dict[str, Any],
    broadcast: dict[str, Any],
    webhooks: dict[str, Any],
    oracle: Oracle,
) -> None:
    uk = oracle.segment("uk_big_spenders")
    already = sorted(cid for cid in triggered["recipients"] if cid in uk)
    [counts] = query(
        platform,
        "SELECT (SELECT count(*) FROM purchases) AS purchases,"
        " (SELECT count(*) FROM custom_events WHERE name = 'order_cancelled') AS cancelled,"
        " (SELECT count(*) FROM email_sends) AS email_sends,"
        " (SELECT count(*) FROM webhook_sends) AS webhook_sends",
    )
    assert counts == {
        "purchases": oracle.units,
        "cancelled": oracle.cancellations,
        "email_sends": len(uk),
        "webhook_sends": webhooks["target"],
    }
    per_dispatch = query(platform, "SELECT dispatch_id, count(*) AS n FROM email_sends GROUP BY ALL")
    assert {r["dispatch_id"]: r["n"] for r in per_dispatch} == {
        triggered["dispatch_id"]: len(already),
        broadcast["dispatch_id"]: len(uk) - len(already),
    }
    aborts = query(platform, "SELECT external_user_id, abort_type, dispatch_id FROM email_aborts ORDER BY 1")
    assert aborts == [
        {"external_user_id": cid, "abort_type": "not_reeligible", "dispatch_id": broadcast["dispatch_id"]}
        for cid in already
    ]
    # and no message event twice: as many rows as distinct ids
    for view in ("email_sends", "email_aborts", "webhook_sends"):
        [row] = query(platform, f"SELECT count(*) AS n, count(DISTINCT id) AS ids FROM {view}")
        assert row["n"] == row["ids"], view


def test_a_second_apply_changes_only_the_repointed_webhook(
    platform: LocalPlatform, applied: dict[str, Any]
) -> None:
    out = cli(platform, "apply", str(EXAMPLES), "--dry-run")
    assert "5 definitions: 1 would change, 4 unchanged, 0 failed" in out
    assert "campaign cancellation_webhook (changed)" in out
