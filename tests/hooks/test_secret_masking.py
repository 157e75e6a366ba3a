"""Neither the client secret nor any minted JWT reaches a log line."""

from __future__ import annotations

import io
import logging

import pytest

from airflow_campaign_provider.hooks.campaign import CampaignHook

from .conftest import BASE, CLIENT_SECRET, connection_json

CAMPAIGN_ID = "cd-1"


@pytest.fixture
def task_log() -> io.StringIO:
    """Airflow's own task logging pipeline (structlog with the secrets masker), into a buffer.

    The logging configuration is global, so it is put back afterwards: later tests read logs.
    """
    import structlog
    from airflow.sdk.log import configure_logging, reset_logging

    saved_structlog = structlog.get_config()
    loggers = [
        logging.getLogger(),
        *(
            logger
            for logger in logging.root.manager.loggerDict.values()
            if isinstance(logger, logging.Logger)
        ),
    ]
    saved_loggers = [(lg, lg.handlers[:], lg.level, lg.propagate, lg.disabled) for lg in loggers]
    buffer = io.StringIO()
    configure_logging.cache_clear()
    configure_logging(output=buffer, cache_logger_on_first_use=False, colored_console_log=False)
    yield buffer
    configure_logging.cache_clear()
    reset_logging()
    structlog.configure(**saved_structlog)
    for logger, handlers, level, propagate, disabled in saved_loggers:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled


def test_secret_and_tokens_are_masked_in_task_logs(task_log, kore_connection, sleeps, mocked):
    mocked.add(
        "GET", f"{BASE}/{CAMPAIGN_ID}", status=401, json={"errors": [{"msg": "expired", "code": 4002}]}
    )
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", json={"status": "success", "data": {"_id": CAMPAIGN_ID}})
    hook = CampaignHook()
    hook.get_campaign(CAMPAIGN_ID)
    tokens = [call.request.headers["auth"] for call in mocked.calls]
    assert len(set(tokens)) == 2

    # Whatever a careless log line holds, the masker removes it: from the hook's logger,
    # a third-party stdlib logger, and an error's text logged as an argument.
    hook.log.info("hook settings: %s %s", CLIENT_SECRET, tokens[0])
    logging.getLogger("urllib3.connectionpool").warning("header auth=%s", tokens[1])
    hook.log.error("boom: %s", RuntimeError(f"failed with {CLIENT_SECRET} / {tokens[1]}"))

    output = task_log.getvalue()
    assert "hook settings" in output
    assert "boom" in output
    assert CLIENT_SECRET not in output
    for token in tokens:
        assert token not in output
        assert token.split(".")[2] not in output  # not even the signature
    assert "***" in output


@pytest.mark.parametrize("enforce_jti", [False, True], ids=["reused token", "one-time tokens"])
def test_only_a_reused_token_is_registered_with_the_masker(monkeypatch, sleeps, mocked, enforce_jti):
    """The masker rebuilds its pattern for every secret added, so a token per request would make
    each call slower than the last: only the reused token is registered (once); one-time tokens
    are left to Airflow's fixed JWT pattern (the task-log test above) and die when used."""
    from airflow.sdk import log as sdk_log
    from airflow.sdk._shared.secrets_masker import redact

    registered: list[object] = []
    real_mask_secret = sdk_log.mask_secret

    def recording_mask_secret(secret: object, name: str | None = None) -> None:
        registered.append(secret)
        real_mask_secret(secret, name)

    monkeypatch.setattr(sdk_log, "mask_secret", recording_mask_secret)
    monkeypatch.setenv(
        "AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", connection_json(extra={"enforce_jti": enforce_jti})
    )
    mocked.add("GET", f"{BASE}/{CAMPAIGN_ID}", json={"status": "success", "data": {"_id": CAMPAIGN_ID}})
    hook = CampaignHook()
    for _ in range(5):
        hook.get_campaign(CAMPAIGN_ID)

    tokens = {call.request.headers["auth"] for call in mocked.calls}
    assert len(tokens) == (5 if enforce_jti else 1)
    assert CLIENT_SECRET in registered
    assert [secret for secret in registered if isinstance(secret, str) and secret in tokens] == (
        [] if enforce_jti else sorted(tokens)
    )
    if not enforce_jti:
        assert redact(f"auth={tokens.pop()};") == "auth=***;"
    assert redact(CLIENT_SECRET) == "***"
