"""The walking skeleton over real HTTP: route, table, stream, queue, state machine, Firehose."""

from __future__ import annotations

import time

import boto3

from infra.local.runtime import LocalPlatform
from tests.e2e.conftest import Http


def test_health_answers_with_the_admin_key_and_refuses_without(http: Http) -> None:
    status, _, body = http.call("GET", "/health")
    assert status == 200 and body["status"] == "ok"
    assert http.call("GET", "/health", key="")[0] == 401
    assert http.call("GET", "/no/such/route")[0] == 404


def test_ping_reaches_done_through_every_kind_of_trigger(platform: LocalPlatform, http: Http) -> None:
    assert http.call("POST", "/skeleton/ping", {"id": "e2e-1"})[0] == 201
    deadline = time.monotonic() + 10
    status = None
    while time.monotonic() < deadline:
        status = http.call("GET", "/skeleton/ping/e2e-1")[2]["status"]
        if status == "done":
            break
        time.sleep(0.05)
    assert status == "done"
    # the AWS state is also served on loopback for the AWS CLI, boto3 scripts and DuckDB
    assert http.call("POST", "/_local/flush")[0] == 200
    s3 = boto3.client(
        "s3",
        endpoint_url=platform.aws_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket="lake", Prefix="currents/event_type=engagekit.skeleton.Ping/")[
            "Contents"
        ]
    ]
    assert keys and all(k.endswith(".gz") for k in keys)


def test_engagekit_invoke_sends_a_sample_event_to_a_function(platform: LocalPlatform, http: Http) -> None:
    from engagekit.cli import app
    from typer.testing import CliRunner

    env = {"ENGAGEKIT_API_URL": platform.api_url, "ENGAGEKIT_API_KEY": http.key}
    result = CliRunner().invoke(app, ["invoke", "skeleton_worker", "sqs/skeleton_work"], env=env)
    assert result.exit_code == 0, result.output
    assert '"batchItemFailures": []' in result.output
    missing = CliRunner().invoke(app, ["invoke", "no_such_function", "sqs/skeleton_work"], env=env)
    assert missing.exit_code == 1 and "no function no_such_function" in missing.output
