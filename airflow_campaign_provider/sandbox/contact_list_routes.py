"""Kore's contact-list endpoints: create, list, get, update, delete, read contacts, add contacts.

Bodies are validated with the provider's own models (``models.contact_list``), so a body the
hook would refuse locally is refused here too, every problem named in one 412 answer.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import JSONResponse

from airflow_campaign_provider.models.common import problems_of
from airflow_campaign_provider.models.contact_list import (
    AddContactsBody,
    ContactListCreate,
    ContactListUpdate,
)
from airflow_campaign_provider.sandbox.errors import KoreError
from airflow_campaign_provider.sandbox.jsonutil import parse_json
from airflow_campaign_provider.sandbox.kore_routes import BASE
from airflow_campaign_provider.sandbox.openapi_docs import (
    ACCOUNT_ID,
    STREAM_ID,
    documented,
    inline_schema,
    json_body,
    param,
)
from airflow_campaign_provider.status import RUNNING_STATUSES

if TYPE_CHECKING:
    from airflow_campaign_provider.sandbox.contact_lists import ContactList
    from airflow_campaign_provider.sandbox.state import SandboxState

LISTS = BASE + "/contactList"
ADD_CONTACTS = "/api/1.1/public/{iid}/campaign/contactList/addContacts"
CONTACT_LIST_ID = param("contactListId", "path", "Contact list id (cl-…)")
#: Kore's sample answers pages of 50 contacts; its paging parameters are undocumented.
CONTACTS_PAGE_SIZE = 50


def _problems(error: ValidationError) -> list[str]:
    return [f"{field}: {rule}" for field, rule in problems_of(error)]


def _validated(model: type[Any], raw: bytes) -> Any:
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise KoreError(412, "body: must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise KoreError(412, _problems(error)) from None


def _page_number(request: Request, name: str, default: int, minimum: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or int(text) < minimum:
        raise KoreError(412, f"{name}: must be a whole number >= {minimum} (got {text!r})")
    return int(text)


def contact_list_router(state: SandboxState) -> APIRouter:
    """The contact-list endpoints, bound to one sandbox's state."""
    router = APIRouter(tags=["Kore.ai contact lists"])
    store = state.store  # its contact_lists are replaced by a reset: read them on each call

    def view(cl: ContactList) -> dict[str, Any]:
        return cl.view([c.id for c in store.campaigns_using(cl.name)])

    def answer(message: str, data: Any) -> JSONResponse:
        return JSONResponse({"status": "success", "message": message, "data": data})

    def current(list_id: str) -> ContactList:
        store.advance(time.time())
        return store.contact_lists.by_id(list_id)

    @router.post(
        LISTS + "/createContactList",
        summary="Create an empty contact list to fill through addContacts",
        openapi_extra=documented(STREAM_ID, ACCOUNT_ID, body=json_body(inline_schema(ContactListCreate))),
    )
    async def create_contact_list(request: Request) -> JSONResponse:
        body: ContactListCreate = _validated(ContactListCreate, await request.body())
        cl = store.contact_lists.create(body.name, body.description, body.allowDuplicates, time.time())
        return answer(f"Contact list {cl.name} created successfully", view(cl))

    list_docs = documented(STREAM_ID, ACCOUNT_ID, param("type", "query", "call", "call", required=False))

    @router.get(LISTS + "/getAllListDetails", summary="Every contact list", openapi_extra=list_docs)
    @router.post(
        LISTS + "/getAllListDetails",
        summary="Every contact list (the page says POST, its sample sends GET: both work)",
        operation_id="list_contact_lists_post",
        openapi_extra=list_docs,
    )
    async def list_contact_lists(request: Request) -> JSONResponse:
        kind = request.query_params.get("type")
        if kind not in (None, "call"):
            raise KoreError(412, f"type: must be call (got {kind!r})")
        store.advance(time.time())
        return answer("", [view(cl) for cl in store.contact_lists.lists()])

    @router.get(
        LISTS + "/{contactListId}",
        summary="Get a contact list",
        openapi_extra=documented(STREAM_ID, CONTACT_LIST_ID, ACCOUNT_ID),
    )
    async def get_contact_list(request: Request) -> JSONResponse:
        return answer("", view(current(request.path_params["contactListId"])))

    @router.put(
        LISTS + "/{contactListId}",
        summary="Rename or describe a contact list (a list a campaign uses keeps its name)",
        openapi_extra=documented(
            STREAM_ID, CONTACT_LIST_ID, ACCOUNT_ID, body=json_body(inline_schema(ContactListUpdate))
        ),
    )
    async def update_contact_list(request: Request) -> JSONResponse:
        body: ContactListUpdate = _validated(ContactListUpdate, await request.body())
        cl = current(request.path_params["contactListId"])
        if body.name is not None and body.name != cl.name and store.campaigns_using(cl.name):
            raise KoreError(412, f"name: contact list {cl.name!r} is used by a campaign; it keeps its name")
        store.contact_lists.change(cl, body.name, body.description, time.time())
        return answer(
            f"Contact list {cl.name} updated successfully",
            {"contactListId": cl.id, "body": {**body.wire(), "listType": "call"}},
        )

    @router.delete(
        LISTS + "/{contactListId}",
        summary="Delete a contact list (refused while a running campaign uses it)",
        openapi_extra=documented(STREAM_ID, CONTACT_LIST_ID, ACCOUNT_ID),
    )
    async def delete_contact_list(request: Request) -> JSONResponse:
        cl = current(request.path_params["contactListId"])
        running = [c.id for c in store.campaigns_using(cl.name) if c.status in RUNNING_STATUSES]
        if running:
            raise KoreError(
                412, f"contactList: {cl.name!r} is used by running campaign(s) {', '.join(running)}"
            )
        shown = view(cl)
        store.contact_lists.remove(cl)
        return answer(f"Contact list {cl.name} deleted successfully", shown)

    @router.get(
        LISTS + "/{contactListId}/getAllContacts",
        summary="A page of a list's contacts, in the order they joined",
        openapi_extra=documented(
            STREAM_ID,
            CONTACT_LIST_ID,
            ACCOUNT_ID,
            param("skip", "query", "contacts to skip (undocumented by Kore)", required=False),
            param("limit", "query", "page size (undocumented by Kore)", required=False),
        ),
    )
    async def list_contacts(request: Request) -> JSONResponse:
        skip = _page_number(request, "skip", 0, 0)
        limit = min(_page_number(request, "limit", CONTACTS_PAGE_SIZE, 1), state.config.max_page_size)
        cl = current(request.path_params["contactListId"])
        total = len(cl.phones)
        return answer(
            "Contacts retrieved successfully",
            {
                "results": store.contact_lists.contacts_page(cl, skip, limit),
                "skip": skip,
                "limit": limit,
                "hasMore": skip + limit < total,
                "totalPages": math.ceil(total / limit),
                "totalResults": total,
            },
        )

    @router.post(
        ADD_CONTACTS,
        summary="Queue contacts for a list; they join it contact_import_seconds later",
        openapi_extra=documented(
            param("iid", "path", "The application id (the iid header)"),
            body=json_body(inline_schema(AddContactsBody)),
        ),
    )
    async def add_contacts(request: Request) -> JSONResponse:
        raw = parse_json(await request.body())
        cap = state.config.max_contacts_per_add
        data = raw.get("data") if isinstance(raw, dict) else None
        if isinstance(data, list) and len(data) > cap:
            raise KoreError(413, f"data: at most {cap} contacts per request (got {len(data)})")
        try:
            body = AddContactsBody.model_validate(raw)
        except ValidationError as error:
            raise KoreError(412, _problems(error)) from None
        now = time.time()
        store.advance(now)
        cl = store.contact_lists.by_name(body.contact_list_name)
        store.contact_lists.queue_import(
            cl, [c.phoneNumber for c in body.data], now + state.config.contact_import_seconds
        )
        return JSONResponse({"message": "Adding contacts to public list is in progress"})

    return router
