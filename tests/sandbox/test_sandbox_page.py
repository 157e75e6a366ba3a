"""The sandbox's own pages: /_sandbox shows what it holds and saw; /docs and /redoc need no CDN."""

from __future__ import annotations

import re

import httpx

from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.sandbox import SandboxServer, sample_create_body
from airflow_campaign_provider.sandbox.config import FaultConfig
from airflow_campaign_provider.sandbox.page import SWAGGER_ASSETS
from airflow_campaign_provider.sandbox.seed import WELCOME_BODY
from tests.waiting import wait_until


def test_the_page_shows_campaigns_with_their_history_messages_with_their_text_and_requests(
    kore_sandbox: SandboxServer,
) -> None:
    hook = CampaignHook()
    campaign_id = hook.create_sms_campaign(sample_create_body())["_id"]
    wait_until(lambda: hook.get_campaign_status(campaign_id) == "Ready")
    hook.start_campaign(campaign_id)
    wait_until(lambda: hook.get_campaign_status(campaign_id) == "Completed")

    page = httpx.get(f"{kore_sandbox.url}/_sandbox").text

    assert "<title>Kore.ai sandbox</title>" in page
    assert campaign_id in page
    assert re.search(r"Preparing <span[^>]*>[\d:.]+</span> → Ready .*→ Active .*→ Completed", page)
    assert "Billing Alert Template Campaign-21212" in page
    message_rows = re.findall(
        r"<tr><td><span title=[^>]*>[\d:.]+</span></td><td><code>cd-[^<]*</code></td><td>\+\d+", page
    )
    assert len(message_rows) == len(kore_sandbox.admin.messages(campaign_id)) > 0
    assert "Greetings, &lt;First Name&gt;! We&#x27;re thrilled" in page  # the text, escaped
    assert "create_sms_campaign" in page
    assert "setInterval(refresh, 2000)" in page
    assert "http" not in re.sub(r"https?://yourwebsite\.com/tips", "", page.split("<script>")[1])


def test_the_view_that_refreshes_shows_faults_and_the_requests_they_hit(kore_sandbox: SandboxServer) -> None:
    kore_sandbox.admin.set_faults(FaultConfig(error_rate=1.0, error_status=503))
    httpx.post(
        f"{kore_sandbox.url}/campaign/api/v2/public/{kore_sandbox.stream_id}/campaign/getAllCampaignDetails"
    )

    view = httpx.get(f"{kore_sandbox.url}/_sandbox/view")

    assert view.headers["cache-control"] == "no-store"
    assert "<code>error_rate=1.0</code>" in view.text
    row = re.search(r"<code>POST [^<]*getAllCampaignDetails</code>.*?</tr>", view.text)
    assert row is not None
    assert '<span class="bad">503</span>' in row[0]
    assert re.search(r'<td><span class="bad">\w+</span></td></tr>$', row[0]), row[0]  # the fault's name
    assert "<html" not in view.text  # a fragment, swapped into the page


def test_the_messages_admin_endpoint_holds_each_messages_text(kore_sandbox: SandboxServer) -> None:
    (campaign_id,) = kore_sandbox.admin.seed_campaigns([{"status": "Active", "complete_in_seconds": 0.2}])
    wait_until(
        lambda: (
            kore_sandbox.admin.messages(campaign_id)
            and not kore_sandbox.admin.campaigns()["byStatus"].get("Active")
        )
    )

    assert {m["text"] for m in kore_sandbox.admin.messages(campaign_id)} == {WELCOME_BODY}


def test_swagger_ui_and_the_reference_load_nothing_from_elsewhere(kore_sandbox: SandboxServer) -> None:
    docs = httpx.get(f"{kore_sandbox.url}/docs").text
    scripts = re.findall(r'(?:src|href)="([^"]+)"', docs)

    assert scripts
    assert all(url.startswith(SWAGGER_ASSETS) for url in scripts), scripts
    for url in scripts:
        assert httpx.get(f"{kore_sandbox.url}{url}").status_code == 200, url
    reference = httpx.get(f"{kore_sandbox.url}/redoc").text
    assert "<script" not in reference
    assert "getAllCampaignDetails" in reference
