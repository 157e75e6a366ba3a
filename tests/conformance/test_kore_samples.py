"""Kore's pages are the test: every sample, read from the page itself at test time.

For each page with a sample (``calls.CALLS``; the rest are listed with why in ``NOT_CALLS``):
- every sample answer is parsed by the provider's own parser;
- the sample request is matched, method, path, query, headers and body keys, by the request the
  provider builds for the same call (differences only where ``follows`` says which page we follow);
- the sandbox's answer to the provider's request has the sample's shape: the same keys, and the
  same JSON types, at every path the sample shows.
docs/kore-samples.md lists the pages, their samples and these tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_campaign_provider.api import ApiRequest, read_answer
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.sandbox import SandboxServer
from tests.conformance.calls import CALLS, NOT_CALLS, UNREADABLE, Call, Ctx
from tests.conformance.kore_pages import SampleRequest, page, page_names, shape

PAGES = page_names()  # no pages: a collection error, never a skip


@pytest.fixture
def hook(kore_sandbox: SandboxServer) -> Iterator[CampaignHook]:
    campaign_hook = CampaignHook()
    yield campaign_hook
    campaign_hook.close()


def prepared(name: str, sandbox: SandboxServer, hook: CampaignHook) -> tuple[Call, Ctx, ApiRequest]:
    call = CALLS[name]
    ctx = Ctx(sandbox, hook, page(name))
    call.setup(ctx)
    return call, ctx, call.build(ctx)


def test_every_page_is_a_checked_call_or_says_why_not() -> None:
    assert set(PAGES) == set(CALLS) | set(NOT_CALLS)
    assert not set(CALLS) & set(NOT_CALLS)
    for name in CALLS:
        assert page(name).requests, f"{name}: no curl sample found"
        assert page(name).answers, f"{name}: no answer sample found"


@pytest.mark.parametrize("name", sorted(CALLS))
def test_the_providers_parser_reads_every_sample_answer(name: str) -> None:
    kore_page = page(name)
    request = ApiRequest(kore_page.requests[0].method, kore_page.requests[0].path, {})

    for sample in kore_page.answers:
        parsed = CALLS[name].parse(read_answer(request, 200, json.dumps(sample), {}))
        assert parsed is not None

    assert not kore_page.unreadable
    assert bool(kore_page.repaired) == (name in UNREADABLE), kore_page.repaired


def _template(path: str, ids: list[str]) -> str:
    for value in sorted(ids, key=len, reverse=True):
        path = path.replace(value, "{}")
    return path


def _body_keys(sample: SampleRequest) -> set[str]:
    if isinstance(sample.body, dict):
        return set(sample.body)
    return set(re.findall(r'^\s{0,8}"(\w+)"\s*:', sample.body_text or "", re.MULTILINE))


@pytest.mark.parametrize("name", sorted(CALLS))
def test_the_sample_request_is_the_request_the_provider_builds(
    name: str, kore_sandbox: SandboxServer, hook: CampaignHook
) -> None:
    call, ctx, ours = prepared(name, kore_sandbox, hook)
    settings = hook.settings
    ids = [settings.stream_id, settings.iid, *ctx.ids.values()]
    ours_headers = {h.lower() for h in hook.api.headers("jwt", with_body=ours.json_body is not None)}

    for sample in ctx.page.requests:
        assert ours.method == sample.method
        if not call.path_differs:
            assert _template(ours.path, ids) == sample.path_template
        assert set(ours.params) - call.extra_query == set(sample.query) - call.missing_query
        assert {h.lower() for h in sample.headers} <= ours_headers
        if ours.json_body or _body_keys(sample):
            sent = set(ours.json_body or {}) - call.extra_body
            assert sent <= _body_keys(sample), "a body key the page does not show"
            if name != "public/get-all-campaigns-v2.md":  # optional filters: we send what we use
                assert sent == _body_keys(sample)


def _mismatches(sample: Any, answer: Any, omitted: dict[str, str]) -> dict[str, tuple[str, str]]:
    ours = shape(answer)
    return {
        path: (kind, ours.get(path, "missing"))
        for path, kind in shape(sample).items()
        if not path.startswith(tuple(omitted)) and kind != "null" and ours.get(path) != kind
    }


@pytest.mark.parametrize("name", sorted(CALLS))
def test_the_sandbox_answers_the_providers_request_in_the_sample_shape(
    name: str, kore_sandbox: SandboxServer, hook: CampaignHook
) -> None:
    call, ctx, ours = prepared(name, kore_sandbox, hook)

    answer = hook.run(ours).body

    samples = ctx.page.answers
    if name == "public/get-all-campaigns-v2.md":  # one answer per campaign type
        samples = [s for s in samples if _type_of_listing(s) == (ours.json_body or {}).get("type")]
    assert samples
    for sample in samples:
        assert _mismatches(sample, answer, call.sandbox_omits) == {}


def _type_of_listing(answer: Any) -> str:
    results = answer.get("data", {}).get("results") or [{}]
    return "voice" if "dialingMode" in results[0] else "sms"
