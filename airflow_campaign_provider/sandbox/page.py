"""The sandbox's own pages, served offline: ``/_sandbox`` (what the sandbox holds and saw, for a
person watching a DAG run), ``/docs`` (Swagger UI, its scripts from the ``swagger-ui-bundle``
package instead of FastAPI's CDN) and ``/redoc`` (the API reference rendered on the server).

``/_sandbox`` is rendered on the server from the sandbox's state; a few lines of inline script
fetch ``/_sandbox/view`` every two seconds and swap it in, keeping the scroll position, so it
reads well while a DAG runs and after. Nothing is loaded from anywhere else.
"""

from __future__ import annotations

import html
import time
from dataclasses import asdict
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse

from airflow_campaign_provider.sandbox import calling_hours
from airflow_campaign_provider.sandbox.config import FaultConfig
from airflow_campaign_provider.sandbox.jsonutil import iso

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from fastapi import FastAPI

    from airflow_campaign_provider.sandbox.state import SandboxState
    from airflow_campaign_provider.sandbox.store import Campaign

PAGE_PATH = "/_sandbox"
SWAGGER_ASSETS = "/_sandbox/assets/swagger-ui"
REFRESH_MS = 2000
#: The newest rows of the message and request tables the page shows (all are in the admin API).
MOST_ROWS = 500

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:10px 20px;display:flex;gap:24px;align-items:baseline}
header h1{font-size:18px;margin:0}header label{margin-left:auto;font-size:13px}
main{padding:8px 20px 40px}h2{font-size:16px;margin:22px 0 6px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #dde1e7;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef0f4}td.text{max-width:520px}code{font-size:12px}
.muted{color:#6b7280}.bad{color:#b42318;font-weight:600}.ok{color:#067647}
"""
_SCRIPT = f"""
const view = document.getElementById('view');
async function refresh() {{
  if (!document.getElementById('live').checked) return;
  try {{
    const answer = await fetch('{PAGE_PATH}/view', {{cache: 'no-store'}});
    if (answer.ok) {{ const y = window.scrollY; view.innerHTML = await answer.text(); window.scrollTo(0, y); }}
  }} catch (e) {{ /* the sandbox stopped: keep what is shown */ }}
}}
setInterval(refresh, {REFRESH_MS});
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _clock(at: float) -> str:
    """``22:01:02.345`` (UTC) for a table cell; the full time in its title."""
    stamp = datetime.fromtimestamp(at, tz=timezone.utc)
    return f'<span title="{_e(iso(at))}">{stamp:%H:%M:%S}.{stamp.microsecond // 1000:03d}</span>'


def _some(phones: Sequence[str], most: int = 20) -> str:
    """The first numbers of a list, and how many more."""
    shown = ", ".join(phones[:most])
    return shown + (f" and {len(phones) - most} more" if len(phones) > most else "")


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], empty: str) -> str:
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    if not body:
        return f'<p class="muted">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _waiting_note(campaign: Campaign, now: float) -> str:
    """For a run held outside its calling hours: when they open."""
    run = campaign.run
    if run is None or run.hours is None or calling_hours.is_open(run.hours, now):
        return ""
    opens = calling_hours.next_open(run.hours, now)
    if opens is None:
        return ""
    local = datetime.fromtimestamp(opens, ZoneInfo(str(run.hours["timezone"])))
    return f'<br><span class="muted">outside its calling hours until {local:%a %H:%M} {_e(run.hours["timezone"])}</span>'


def render_view(state: SandboxState, now: float) -> str:
    """The part of the page that refreshes: every section, from the sandbox's state at ``now``."""
    store = state.store
    store.advance(now)
    config = state.config
    campaigns = sorted(store.campaigns.values(), key=lambda c: c.history[0][1] if c.history else 0.0)
    off = asdict(FaultConfig())  # the faults in force: what differs from no fault at all
    faults = {k: v for k, v in config.to_dict()["faults"].items() if k != "random_seed" and off.get(k) != v}
    parts = [
        "<p>"
        + " · ".join(
            [
                f"{len(campaigns)} live campaigns, {len(store.deleted_ids)} deleted",
                f"{len(store.messages)} messages and calls",
                f"{len(state.requests)} Kore requests",
                f"rate limit {config.rate_limit_per_window or 'off'} per {config.rate_limit_window_seconds:g} s",
                f"an SMS every {config.send_interval_seconds:g} s",
                f"calling hours {'enforced' if config.enforce_calling_hours else 'ignored'}",
            ]
        )
        + "</p>",
        "<h2>Faults in force</h2>",
        (
            "<p>" + ", ".join(f"<code>{_e(k)}={_e(v)}</code>" for k, v in faults.items()) + "</p>"
            if faults
            else '<p class="muted">none</p>'
        ),
        "<h2>Campaigns</h2>",
        _table(
            [
                "name",
                "id",
                "type",
                "status",
                "status history",
                "contact lists",
                "DNC list",
                "sent / due",
                "text",
            ],
            (
                [
                    _e(c.doc.get("name")),
                    f"<code>{_e(c.id)}</code>",
                    _e(c.kind),
                    _e(store.view(c)["status"]) + _waiting_note(c, now),
                    " → ".join(f"{_e(status)} {_clock(at)}" for status, at in c.history),
                    _e(", ".join(c.doc.get("contactLists") or ())),
                    _e((c.doc.get("dncLists") or {}).get("name")),
                    f"{len(c.sent)} / {c.due}",
                    f'<span class="text">{_e(c.text)}</span>',
                ]
                for c in campaigns
            ),
            "No campaign yet.",
        ),
        "<h2>Contact lists</h2>",
        _table(
            ["name", "id", "numbers", "contacts"],
            (
                [_e(cl.name), f"<code>{_e(cl.id)}</code>", str(len(cl.phones)), _e(_some(cl.phones))]
                for cl in store.contact_lists.lists()
            ),
            "No contact list.",
        ),
        _table(
            ["DNC list", "numbers"],
            ([_e(name), _e(_some(phones))] for name, phones in store.dnc_lists.items()),
            "No DNC list.",
        ),
        _table(
            ["template", "body"],
            ([_e(name), f'<span class="text">{_e(t.body)}</span>'] for name, t in store.templates.items()),
            "No template.",
        ),
        f"<h2>Messages and calls (newest first, at most {MOST_ROWS})</h2>",
        _table(
            ["sent at", "campaign", "to", "channel", "contact list", "text"],
            (
                [
                    _clock(m.sent_at),
                    f"<code>{_e(m.campaign_id)}</code>",
                    _e(m.phone),
                    _e(m.channel),
                    _e(m.contact_list),
                    f'<span class="text">{_e(m.text)}</span>',
                ]
                for m in reversed(store.messages[-MOST_ROWS:])
            ),
            "Nothing sent yet.",
        ),
        f"<h2>Kore requests (newest first, at most {MOST_ROWS})</h2>",
        _table(
            ["#", "at", "request", "operation", "answer", "fault injected"],
            (
                [
                    str(r.seq),
                    _clock(r.time),
                    f"<code>{_e(r.method)} {_e(r.path)}{'?' + _e(r.query) if r.query else ''}</code>",
                    _e(r.operation),
                    f'<span class="{"ok" if r.status and r.status < 400 else "bad"}">{_e(r.status)}</span>',
                    f'<span class="bad">{_e(r.fault)}</span>' if r.fault else "",
                ]
                for r in reversed(list(state.requests)[-MOST_ROWS:])
            ),
            "No request yet.",
        ),
    ]
    return "\n".join(parts)


def render_page(state: SandboxState, now: float) -> str:
    """The whole page: the view, and the script that refreshes it."""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>Kore.ai sandbox</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<header><h1>Kore.ai sandbox</h1>"
        f'<a href="/docs" style="color:#cfd6e4">API (Swagger UI)</a>'
        f'<a href="/redoc" style="color:#cfd6e4">API reference</a>'
        '<label><input type="checkbox" id="live" checked> refresh every '
        f"{REFRESH_MS // 1000} s</label></header>"
        f'<main id="view">{render_view(state, now)}</main>'
        f"<script>{_SCRIPT}</script></body></html>"
    )


def render_reference(openapi: dict[str, Any]) -> str:
    """``/redoc``: the OpenAPI document as one plain page (no script, nothing fetched)."""
    rows = []
    for path, operations in openapi.get("paths", {}).items():
        for method, operation in operations.items():
            params = ", ".join(
                f"{_e(p.get('name'))} ({_e(p.get('in'))}{', required' if p.get('required') else ''})"
                for p in operation.get("parameters") or ()
            )
            rows.append(
                [
                    f"<code>{_e(method.upper())} {_e(path)}</code>",
                    _e(operation.get("summary") or operation.get("operationId")),
                    params,
                    _e(", ".join(operation.get("tags") or ())),
                ]
            )
    info = openapi.get("info", {})
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{_e(info.get('title'))}</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>{_e(info.get('title'))} {_e(info.get('version'))}</h1>"
        '<a href="/docs" style="color:#cfd6e4">try it (Swagger UI)</a>'
        '<a href="/openapi.json" style="color:#cfd6e4">openapi.json</a></header>'
        f"<main><p>{_e(info.get('description'))}</p>"
        f"{_table(['operation', 'what it does', 'parameters', 'group'], rows, 'No operation.')}</main>"
        "</body></html>"
    )


def page_router(state: SandboxState, api: FastAPI) -> APIRouter:
    """``/_sandbox``, its refreshing view, ``/docs`` and ``/redoc``, bound to one sandbox."""
    router = APIRouter(include_in_schema=False)

    @router.get(PAGE_PATH)
    async def page() -> HTMLResponse:
        return HTMLResponse(render_page(state, time.time()))

    @router.get(f"{PAGE_PATH}/view")
    async def view() -> HTMLResponse:
        return HTMLResponse(render_view(state, time.time()), headers={"Cache-Control": "no-store"})

    @router.get("/docs")
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=api.openapi_url or "/openapi.json",
            title=f"{api.title} (Swagger UI)",
            swagger_js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_ASSETS}/favicon-32x32.png",
        )

    @router.get("/redoc")
    async def reference() -> HTMLResponse:
        return HTMLResponse(render_reference(api.openapi()))

    return router
