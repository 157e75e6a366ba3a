"""The documented requests, replayed: answers must match the documentation's samples field for field."""

from __future__ import annotations

import base64
import copy
import re
from typing import TYPE_CHECKING, Any

import pytest
import requests

from airflow_campaign_provider.sandbox.seed import WELCOME_BODY
from tests.sandbox.samples import DELETE_SMS_SAMPLE, DELETE_VOICE_SAMPLE, GET_SMS_SAMPLE, STOP_SMS_SAMPLE
from tests.sandbox.testkit import error_messages

if TYPE_CHECKING:
    from airflow_campaign_provider.sandbox import SandboxServer
    from tests.sandbox.testkit import KoreClient

ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
# Fields the sandbox adds beyond a sample: documented in the create answer's table
# (totalMessagesSent, direction) or in the delete page's table (campaignInstanceId).
DOCUMENTED_EXTRAS = {"totalMessagesSent", "direction", "campaignInstanceId"}
# The create page's "Response Parameters" table, top-level names.
CREATE_ANSWER_FIELDS = {
    "_id",
    "name",
    "lname",
    "description",
    "status",
    "dncLists",
    "priority",
    "dialingStrategy",
    "message",
    "totalMessagesSent",
    "direction",
    "createdAt",
    "updatedAt",
    "schedule",
    "contactLists",
    "format",
}


def _seed_sample(sandbox: SandboxServer, data: dict[str, Any], campaign_type: str) -> str:
    fields = {k: v for k, v in copy.deepcopy(data).items() if k != "status"}
    return sandbox.admin.seed_campaign(data["status"], campaign_type=campaign_type, fields=fields)


def _without_extras(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in DOCUMENTED_EXTRAS}


def test_welcome_template_is_the_unmasked_sample_text() -> None:
    sample = DELETE_SMS_SAMPLE["data"]["message"]["message"]
    ours = base64.b64encode(WELCOME_BODY.encode()).decode()
    unmasked = sample[: sample.index("xxxxx")]
    assert ours.startswith(unmasked[:-1])  # the last sample character straddles the mask
    assert WELCOME_BODY.endswith("send us a reply right here.")


def test_create_the_documented_sample_as_written(kore: KoreClient, sample_body: dict[str, Any]) -> None:
    created = kore.create_ok(sample_body)

    assert set(created) - {"isImported", "isFiltersEnabled"} == CREATE_ANSWER_FIELDS
    assert re.fullmatch(r"cd-[0-9a-f-]{36}", created["_id"])
    assert created["name"] == sample_body["name"]
    assert created["lname"] == sample_body["name"].lower()
    assert created["status"] == "Preparing"
    assert created["totalMessagesSent"] == 0
    for key in ("description", "priority", "dncLists", "contactLists", "format", "dialingStrategy"):
        assert created[key] == sample_body[key]
    assert created["message"] == {**sample_body["message"], "templateId": created["message"]["templateId"]}
    assert created["schedule"] == DELETE_SMS_SAMPLE["data"]["schedule"]
    assert ISO_MS.fullmatch(created["createdAt"])
    assert created["createdAt"] == created["updatedAt"]


def test_get_answers_the_get_sample_field_for_field(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    campaign_id = _seed_sample(kore_sandbox, GET_SMS_SAMPLE["data"], "sms")

    answer = kore.get(campaign_id)

    assert answer.status_code == 200
    body = answer.json()
    assert _without_extras(body["data"]) == GET_SMS_SAMPLE["data"]
    assert {k: v for k, v in body.items() if k != "data"} == {
        k: v for k, v in GET_SMS_SAMPLE.items() if k != "data"
    }


def test_get_of_a_created_campaign_has_the_sample_shape(
    kore: KoreClient, sample_body: dict[str, Any]
) -> None:
    campaign_id = kore.create_ok(sample_body)["_id"]

    data = kore.get(campaign_id).json()["data"]

    # A template campaign carries `message` where the sample's bot campaign has `experienceFlow`.
    assert set(_without_extras(data)) == (set(GET_SMS_SAMPLE["data"]) - {"experienceFlow"}) | {"message"}


@pytest.mark.parametrize(
    ("sample", "campaign_type"),
    [(DELETE_SMS_SAMPLE, "sms"), (DELETE_VOICE_SAMPLE, "voice")],
    ids=["sms", "voice"],
)
def test_delete_answers_the_delete_sample(
    kore: KoreClient, kore_sandbox: SandboxServer, sample: dict[str, Any], campaign_type: str
) -> None:
    campaign_id = _seed_sample(kore_sandbox, sample["data"], campaign_type)

    answer = kore.delete(campaign_id, campaign_type)

    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == sample["status"]
    assert body["message"] == sample["message"]
    assert _without_extras(body["data"]) == sample["data"]
    assert kore.get(campaign_id).status_code == 404


def test_stop_answers_the_stop_sample(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    kore_sandbox.admin.update_config(send_interval_seconds=10.0)
    campaign_id = kore_sandbox.admin.seed_campaign("Ready")
    assert kore.trigger(campaign_id, "play").status_code == 200

    answer = kore.trigger(campaign_id, "stop")

    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == set(STOP_SMS_SAMPLE)
    assert {k: body[k] for k in ("status", "message", "campaignExecutionType")} == {
        k: STOP_SMS_SAMPLE[k] for k in ("status", "message", "campaignExecutionType")
    }
    assert ISO_MS.fullmatch(body["updatedAt"])
    assert kore.status_of(campaign_id) == "Stopped"


def test_start_answer(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    campaign_id = kore_sandbox.admin.seed_campaign("Ready")

    body = kore.trigger(campaign_id, "play").json()

    assert set(body) == {"status", "message", "updatedAt", "campaignInstanceId"}
    assert (body["status"], body["message"]) == ("Active", "Campaign Started")
    assert body["campaignInstanceId"].startswith("ci-")
    assert kore.get(campaign_id).json()["data"]["campaignInstanceId"] == body["campaignInstanceId"]


def test_status_view(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    campaign_id = kore_sandbox.admin.seed_campaign("Paused", fields={"name": "Status view"})

    body = kore.status(campaign_id).json()

    assert body == {
        "status": "success",
        "data": {"id": campaign_id, "status": "Paused", "name": "Status view"},
    }


def test_the_double_slash_is_routed_and_a_single_slash_is_not(
    kore: KoreClient, kore_sandbox: SandboxServer
) -> None:
    campaign_id = kore_sandbox.admin.seed_campaign("Ready")
    params = {"campaignType": "sms", "trigger": "play"}

    single = kore.call("POST", f"/trigger/{campaign_id}", params=params, json={})
    assert single.status_code == 404
    assert kore.status_of(campaign_id) == "Ready"

    # requests, too, sends the path as written
    answer = requests.post(
        f"{kore_sandbox.url}{kore.base}//trigger/{campaign_id}",
        params={"accountId": kore_sandbox.account_id, **params},
        headers=kore.headers(),
        json={},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    paths = [r["path"] for r in kore_sandbox.admin.requests()]
    assert paths[-1] == f"{kore.base}//trigger/{campaign_id}"
    assert paths[-3] == f"{kore.base}/trigger/{campaign_id}"  # [-2] is the status call


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "/{id}", {}),
        ("POST", "/{id}/status", {"view": "status"}),
        ("POST", "//trigger/{id}", {"campaignType": "sms", "trigger": "play"}),
        ("POST", "//trigger/{id}", {"campaignType": "sms", "trigger": "stop"}),
        ("DELETE", "/{id}", {"campaignType": "sms"}),
    ],
)
def test_unknown_campaign_is_404(kore: KoreClient, method: str, path: str, params: dict[str, str]) -> None:
    answer = kore.call(method, path.format(id="cd-does-not-exist"), params=params, json={})

    assert answer.status_code == 404
    assert answer.json() == {"errors": [{"msg": "Campaign not found", "code": 404}]}


def test_wrong_campaign_type_for_an_id_is_404(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    voice_id = kore_sandbox.admin.seed_campaign("Ready", campaign_type="voice")
    sms_id = kore_sandbox.admin.seed_campaign("Ready")

    assert kore.delete(voice_id, "sms").status_code == 404
    assert kore.delete(sms_id, "voice").status_code == 404
    assert kore.trigger(voice_id, "play", "sms").status_code == 404
    assert kore.delete(voice_id, "voice").status_code == 200
    assert kore.delete(voice_id, "voice").status_code == 404


def test_campaign_type_and_trigger_are_checked(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    campaign_id = kore_sandbox.admin.seed_campaign("Ready")

    answer = kore.call("POST", f"//trigger/{campaign_id}", params={"campaignType": "fax", "trigger": "go"})

    assert answer.status_code == 412
    assert [m.split(":")[0] for m in error_messages(answer)] == ["campaignType", "trigger"]
    assert kore.delete(campaign_id, "").status_code == 412


def test_list_pages_filters_and_sorts(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    admin = kore_sandbox.admin
    admin.seed_campaigns([{"fields": {"name": f"Campaign {i:02d}"}} for i in range(23)])
    admin.seed_campaigns([{"status": "Stopped", "fields": {"name": "Stopped one"}}])
    admin.seed_campaigns([{"campaign_type": "voice", "fields": {"name": "Voice one"}}])

    first = kore.list({"type": "sms", "limit": 10, "page": 1, "sortBy": {"name": 1}}).json()
    assert first["status"] == "success"
    assert set(first["data"]) == {"results", "skip", "limit", "hasMore", "totalPages", "totalResults"}
    assert (first["data"]["totalResults"], first["data"]["totalPages"], first["data"]["hasMore"]) == (
        24,
        3,
        True,
    )
    names = [c["name"] for c in first["data"]["results"]]
    assert names == [f"Campaign {i:02d}" for i in range(10)]

    last = kore.list({"type": "sms", "limit": 10, "skip": 20, "sortBy": "name"}).json()["data"]
    assert [c["name"] for c in last["results"]] == [
        "Campaign 20",
        "Campaign 21",
        "Campaign 22",
        "Stopped one",
    ]
    assert last["hasMore"] is False

    stopped = kore.list({"filters": {"status": ["Stopped"]}}).json()["data"]
    assert [c["name"] for c in stopped["results"]] == ["Stopped one"]
    voice = kore.list({"type": "voice"}).json()["data"]
    assert [c["name"] for c in voice["results"]] == ["Voice one"]
    assert kore.list().json()["data"]["totalResults"] == 25


def test_list_page_size_is_capped(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    kore_sandbox.admin.update_config(max_page_size=4)
    kore_sandbox.admin.seed_campaigns([{} for _ in range(6)])

    data = kore.list({"limit": 1000}).json()["data"]

    assert (len(data["results"]), data["totalPages"], data["hasMore"]) == (4, 2, True)


def test_list_rejects_bad_queries_all_at_once(kore: KoreClient) -> None:
    answer = kore.list(
        {"type": "fax", "limit": 0, "skip": -1, "filters": {"status": "x"}, "sortBy": {"x": 2}}
    )

    assert answer.status_code == 412
    fields = {m.split(":")[0] for m in error_messages(answer)}
    assert {"type", "limit", "skip", "sortBy", "sortBy.x"} <= fields


def test_openapi_is_served_with_the_documented_paths(kore_sandbox: SandboxServer, kore: KoreClient) -> None:
    schema = kore.http.get("/openapi.json").json()

    assert "/campaign/api/v2/public/{streamId}/campaign//trigger/{campaignId}" in schema["paths"]
    assert set(schema["components"]["securitySchemes"]) == {"auth", "iid", "accountId"}
