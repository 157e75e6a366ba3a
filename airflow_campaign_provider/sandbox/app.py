"""The sandbox ASGI application: FastAPI routes behind the Kore gateway."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from airflow_campaign_provider import __version__
from airflow_campaign_provider.sandbox.admin_routes import admin_router
from airflow_campaign_provider.sandbox.campaign_routes import campaign_router
from airflow_campaign_provider.sandbox.config import SandboxConfig
from airflow_campaign_provider.sandbox.contact_list_routes import contact_list_router
from airflow_campaign_provider.sandbox.errors import KoreError
from airflow_campaign_provider.sandbox.gateway import KORE_PREFIXES, KoreGateway, error_response
from airflow_campaign_provider.sandbox.kore_routes import kore_router
from airflow_campaign_provider.sandbox.page import SWAGGER_ASSETS, page_router
from airflow_campaign_provider.sandbox.state import SandboxState

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request
    from starlette.responses import Response


log = logging.getLogger(__name__)

SECURITY_SCHEMES = {
    "auth": {"type": "apiKey", "in": "header", "name": "auth", "description": "HS256 JWT, claim appId"},
    "iid": {"type": "apiKey", "in": "header", "name": "iid", "description": "application (stream) id"},
    "accountId": {"type": "apiKey", "in": "header", "name": "accountId", "description": "account id"},
}


async def _tick(state: SandboxState) -> None:
    """Apply lifecycle events regularly, so messages are recorded even when nobody asks."""
    while True:
        await asyncio.sleep(state.config.tick_seconds)
        try:
            state.store.advance(time.time())
        except Exception:  # keep ticking; the next request will surface a real problem
            log.exception("sandbox ticker failed")


async def _kore_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, KoreError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(KoreError(exc.status_code, str(exc.detail), headers=dict(exc.headers or {})))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    messages = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
    return error_response(KoreError(400, messages or ["request: invalid"]))


def create_app(config: SandboxConfig) -> KoreGateway:
    """Build a sandbox app for `config`; its state is ready at once (seeded or loaded from the db)."""
    state = SandboxState(config, time.time())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ticker = asyncio.create_task(_tick(state))
        try:
            yield
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            state.close()

    api = FastAPI(
        title="Kore.ai Campaign Management API v2 (sandbox)",
        version=__version__,
        description="A local stand-in for Kore.ai's campaign API, plus admin endpoints under /_sandbox.",
        lifespan=lifespan,
        redirect_slashes=False,
        docs_url=None,  # FastAPI's pages load their scripts from a CDN: page_router serves them
        redoc_url=None,
    )
    api.include_router(kore_router(state))
    api.include_router(campaign_router(state))
    api.include_router(contact_list_router(state))
    api.include_router(page_router(state, api))
    api.include_router(admin_router(state))
    api.mount(SWAGGER_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
    api.add_exception_handler(KoreError, _kore_error)
    api.add_exception_handler(HTTPException, _http_error)
    api.add_exception_handler(RequestValidationError, _validation_error)

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            schema = FastAPI.openapi(api)
            schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            for path, operations in schema["paths"].items():
                if path.startswith(KORE_PREFIXES):
                    for operation in operations.values():
                        operation["security"] = [{name: [] for name in SECURITY_SCHEMES}]
        return api.openapi_schema  # type: ignore[return-value]

    api.openapi = openapi  # type: ignore[method-assign]
    api.state.sandbox = state
    return KoreGateway(api, state)


def openapi_document() -> dict[str, Any]:
    """The sandbox's OpenAPI document (the same for every config), without serving anything."""
    api = create_app(SandboxConfig()).app
    assert isinstance(api, FastAPI)
    return api.openapi()
