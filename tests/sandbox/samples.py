"""The JSON samples of the seed Kore.ai documentation pages, read from the pages themselves
(``../shared/kore-api-docs/``, see :mod:`tests.conformance.kore_pages`), `xxxxx` masks and all."""

from __future__ import annotations

from typing import Any

from tests.conformance.kore_pages import page


def _answer(name: str) -> dict[str, Any]:
    (answer,) = page(name).answers
    return dict(answer)


GET_SMS_SAMPLE: dict[str, Any] = _answer("get-sms-campaign.txt")
DELETE_SMS_SAMPLE: dict[str, Any] = _answer("delete-sms-campaign.txt")
DELETE_VOICE_SAMPLE: dict[str, Any] = _answer("delete-voice-campaign.txt")
STOP_SMS_SAMPLE: dict[str, Any] = _answer("stop-sms-campaign.txt")
