"""Errors that say what to do: the operator, the task, the argument, the rule and the fix."""

from __future__ import annotations

import pytest
from airflow.sdk import DAG

from airflow_campaign_provider.exceptions import CampaignArgumentsError, CampaignValidationError
from airflow_campaign_provider.guidance import MissingArgumentError, contact_list_names
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.models.common import encode_message
from airflow_campaign_provider.operators.campaign import CreateSmsCampaignOperator
from airflow_campaign_provider.operators.contact_list import CreateContactListOperator
from airflow_campaign_provider.operators.voice import CreateVoiceCampaignOperator
from airflow_campaign_provider.sandbox import SandboxServer, sample_create_body
from airflow_campaign_provider.sandbox.seed import WELCOME_BODY

HOURS = {
    "frequency": "WEEKLY",
    "timezone": "UTC",
    "days": [{"day": "MO", "start": "9:00 AM", "end": "6:00 PM"}],
}
ARGUMENTS = {
    "task_id": "create_campaign",
    "name": "Welcome",
    "description": "Welcome texts",
    "contact_lists": ["Weekly new customers"],
    "template_name": "Welcome",
    "message": WELCOME_BODY,
    "caller_id": "+14155550100",
    "calling_hours": HOURS,
}


def test_a_missing_required_argument_names_the_operator_the_task_and_what_it_holds() -> None:
    arguments = {k: v for k, v in ARGUMENTS.items() if k != "calling_hours"}

    with pytest.raises(MissingArgumentError) as error:
        CreateSmsCampaignOperator(**arguments)

    text = str(error.value)
    assert text.startswith("CreateSmsCampaignOperator(task_id='create_campaign') needs calling_hours")
    assert '"timezone"' in text  # what the argument holds, from the docstring
    assert "default_args" in text
    assert isinstance(error.value, TypeError)


def test_a_missing_argument_of_a_subclass_is_explained_once() -> None:
    with pytest.raises(MissingArgumentError) as error:
        CreateVoiceCampaignOperator(task_id="call", name="n", description="d", contact_lists=["a"])

    text = str(error.value)
    assert text.count("needs") == 1
    assert "CreateVoiceCampaignOperator(task_id='call')" in text
    assert "needs dialing_mode, dnc_list, which were not given" in text
    assert "  - dnc_list: " in text


def test_a_broken_rule_names_the_task_too() -> None:
    with pytest.raises(CampaignArgumentsError) as error:
        CreateSmsCampaignOperator(**{**ARGUMENTS, "priority": 9})

    assert str(error.value).endswith("\n(task 'create_campaign', CreateSmsCampaignOperator)")


def test_a_contact_list_operators_output_where_names_are_expected_fails_at_parse_time_with_the_name() -> None:
    with DAG("guidance"):
        create_list = CreateContactListOperator(task_id="create_list", name="Data team {{ ds_nodash }}")
        with pytest.raises(CampaignArgumentsError) as error:
            CreateSmsCampaignOperator(**{**ARGUMENTS, "contact_lists": [create_list.output]})

    text = str(error.value)
    assert "contact_lists: takes contact list names; got the output of task 'create_list'" in text
    assert "the list's id (cl-…)" in text
    assert "pass contact_lists=['Data team {{ ds_nodash }}']" in text


def test_a_rendered_list_id_is_resolved_to_its_name(
    kore_sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    hook = CampaignHook()
    created = hook.create_contact_list("Gold customers", "gold")

    names = contact_list_names(hook, "create_campaign", [created["_id"], "Weekly new customers"])

    assert names == ["Gold customers", "Weekly new customers"]
    assert f"got the id {created['_id']}, the list's name is 'Gold customers'" in caplog.text


def test_a_list_id_that_names_no_list_fails_before_any_campaign_is_created(
    kore_sandbox: SandboxServer,
) -> None:
    missing = "cl-00000000-0000-4000-8000-000000000000"

    with pytest.raises(CampaignArgumentsError, match=f"got the id {missing}, and no contact list has it"):
        contact_list_names(CampaignHook(), "create_campaign", [missing])


def test_a_message_that_is_not_the_template_body_is_told_the_body_as_text(
    kore_sandbox: SandboxServer,
) -> None:
    body = sample_create_body()
    body["message"]["message"] = encode_message("Greetings, <First Name>! Welcome aboard.")

    with pytest.raises(CampaignValidationError) as error:
        CampaignHook().create_sms_campaign(body)

    text = str(error.value)
    assert "base64" not in text
    assert "''" not in text
    assert 'message: must be the body of template "Welcome", word for word' in text
    assert 'it differs from character 28: the message has "…First Name>! Welcome aboard."' in text
    assert f'The template\'s body is "{WELCOME_BODY}"' in text
    assert "PUT /_sandbox/resources/templates/<name>" in text
