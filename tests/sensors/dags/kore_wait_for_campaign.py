"""One campaign waited on by the sensor in all three modes, run by ``tests/sensors/test_sensor_dag.py``
with ``dag.test()`` against the sandbox; the campaign id comes in the run's conf."""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_campaign_provider.sensors.campaign import CampaignStatusSensor

CAMPAIGN_ID = "{{ dag_run.conf['campaign_id'] }}"

with DAG("kore_wait_for_campaign", schedule=None, catchup=False) as dag:
    deferred = CampaignStatusSensor(
        task_id="deferred", campaign_id=CAMPAIGN_ID, deferrable=True, poke_interval=0.2, timeout=60
    )
    poked = CampaignStatusSensor(task_id="poked", campaign_id=CAMPAIGN_ID, poke_interval=0.2, timeout=60)
    rescheduled = CampaignStatusSensor(
        task_id="rescheduled", campaign_id=CAMPAIGN_ID, mode="reschedule", poke_interval=0.2, timeout=60
    )

    @task
    def statuses(*reached: str) -> list[str]:
        """Every sensor returned the status it reached to XCom."""
        return list(reached)

    statuses(deferred.output, poked.output, rescheduled.output)
