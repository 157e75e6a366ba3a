"""The sensor waits on a voice campaign as on an SMS one: the voice list and status views."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.sandbox import sample_voice_body
from airflow_campaign_provider.sensors.campaign import CampaignStatusSensor

if TYPE_CHECKING:
    from airflow_campaign_provider.sandbox import SandboxServer


def test_the_sensor_sees_a_voice_campaign_through_to_completed(kore_sandbox: SandboxServer) -> None:
    campaign_id = str(CampaignHook().create_voice_campaign(sample_voice_body())["id"])
    sensor = CampaignStatusSensor(
        task_id="wait", campaign_id=campaign_id, campaign_type="voice", target_statuses=("Ready",)
    )
    while not sensor.poke({}):
        pass
    CampaignHook().start_campaign(campaign_id, "voice")
    done = CampaignStatusSensor(task_id="done", campaign_id=campaign_id, campaign_type="voice")

    while not done.poke({}):
        pass
    assert CampaignHook().get_campaign_status(campaign_id) == "Completed"
