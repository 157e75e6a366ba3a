"""Start and stop in each documented path shape; a 404 on a known campaign tries the other once."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import responses

from airflow_campaign_provider.exceptions import CampaignConnectionConfigError, CampaignNotFoundError
from airflow_campaign_provider.hooks import campaign as hook_module
from airflow_campaign_provider.hooks.campaign import CampaignHook

from .conftest import BASE, HOST, STREAM_ID, connection_json

CAMPAIGN_ID = "cd-9e14b72-88cc-4544-9a98-7aee9b700000"
SMS_START = f"{BASE}/{CAMPAIGN_ID}"
DOUBLE_SLASH = f"{BASE}//trigger/{CAMPAIGN_ID}"
VOICE = f"{HOST}/api/v2/public/{STREAM_ID}/campaign/trigger/{CAMPAIGN_ID}"
STATUS = f"{BASE}/{CAMPAIGN_ID}/status"
STARTED = {"status": "Active", "message": "Campaign Started"}
NOT_FOUND = {"errors": [{"msg": "Cannot POST", "code": 404}]}


@pytest.fixture(autouse=True)
def forget_shapes() -> Iterator[None]:
    hook_module._WORKING_TRIGGER_SHAPE.clear()
    yield
    hook_module._WORKING_TRIGGER_SHAPE.clear()


def paths(mocked: responses.RequestsMock) -> list[str]:
    return [urlsplit(call.request.url).path for call in mocked.calls]


@pytest.mark.parametrize(
    ("campaign_type", "action", "url"),
    [
        ("sms", "play", SMS_START),
        ("sms", "stop", DOUBLE_SLASH),
        ("voice", "play", VOICE),
        ("voice", "stop", VOICE),
    ],
)
def test_each_page_s_own_shape_is_the_default(hook, mocked, campaign_type, action, url):
    mocked.add("POST", url, json={"status": "Stopped" if action == "stop" else "Active"})

    call = hook.start_campaign if action == "play" else hook.stop_campaign
    call(CAMPAIGN_ID, campaign_type)

    assert paths(mocked) == [urlsplit(url).path]
    assert f"trigger={action}" in mocked.calls[0].request.url
    assert f"campaignType={campaign_type}" in mocked.calls[0].request.url


def test_a_404_on_a_known_campaign_tries_the_other_shape_once_and_remembers_it(hook, mocked):
    mocked.add("POST", VOICE, status=404, json=NOT_FOUND)
    mocked.add("POST", STATUS, json={"status": "success", "data": {"id": CAMPAIGN_ID, "status": "Ready"}})
    mocked.add("POST", DOUBLE_SLASH, json=STARTED)

    assert hook.start_campaign(CAMPAIGN_ID, "voice") == STARTED
    assert paths(mocked) == [urlsplit(u).path for u in (VOICE, STATUS, DOUBLE_SLASH)]

    CampaignHook().start_campaign(CAMPAIGN_ID, "voice")  # another hook of the same connection
    assert paths(mocked)[-1] == urlsplit(DOUBLE_SLASH).path
    assert len(mocked.calls) == 4  # the remembered shape straight away


def test_a_404_on_an_unknown_campaign_is_not_tried_elsewhere(hook, mocked):
    mocked.add("POST", SMS_START, status=404, json=NOT_FOUND)
    mocked.add("POST", STATUS, status=404, json=NOT_FOUND)

    with pytest.raises(CampaignNotFoundError):
        hook.start_campaign(CAMPAIGN_ID)
    assert paths(mocked) == [urlsplit(SMS_START).path, urlsplit(STATUS).path]


def test_a_path_set_on_the_connection_is_the_only_one_tried(monkeypatch, sleeps, mocked):
    custom = "/custom/{stream_id}/start/{campaign_id}"
    monkeypatch.setenv(
        "AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", connection_json(extra={"sms_start_path": custom})
    )
    mocked.add("POST", f"{HOST}/custom/{STREAM_ID}/start/{CAMPAIGN_ID}", status=404, json=NOT_FOUND)

    with pytest.raises(CampaignNotFoundError):
        CampaignHook().start_campaign(CAMPAIGN_ID)
    assert len(mocked.calls) == 1


def test_the_older_trigger_path_still_applies_to_every_start_and_stop(monkeypatch, sleeps, mocked):
    monkeypatch.setenv(
        "AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT",
        connection_json(extra={"trigger_path": "//trigger/{campaign_id}"}),
    )
    mocked.add("POST", DOUBLE_SLASH, json=STARTED)

    CampaignHook().start_campaign(CAMPAIGN_ID, "voice")

    assert paths(mocked) == [urlsplit(DOUBLE_SLASH).path]


@pytest.mark.parametrize("path", ["no-slash/{campaign_id}", "/no/placeholder"])
def test_a_malformed_path_setting_names_its_extra(monkeypatch, mocked, path):
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", connection_json(extra={"voice_stop_path": path}))

    with pytest.raises(CampaignConnectionConfigError, match=r"extra\.voice_stop_path"):
        CampaignHook().stop_campaign(CAMPAIGN_ID, "voice")
    assert len(mocked.calls) == 0
