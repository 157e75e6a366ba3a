"""Kore's requests, transport-free: paths, query parameters, headers and bodies of every call.

The synchronous hook (requests) and the asynchronous trigger (httpx) send exactly what these build.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_campaign_provider import __version__
from airflow_campaign_provider.exceptions import (
    InvalidCampaignArgumentError,
)

if TYPE_CHECKING:
    from airflow_campaign_provider.models.connection import KoreConnectionSettings
    from airflow_campaign_provider.models.contact_list import (
        AddContactsBody,
        ContactListCreate,
        ContactListUpdate,
    )


USER_AGENT = f"airflow-campaign-provider/{__version__}"


API_ROOT = "/campaign/api/v2/public"


#: Answer encodings the provider asks for and decodes itself, with bounded memory.
ACCEPTED_ENCODINGS = "gzip, deflate"


#: Start and stop paths from the host root, as each Kore page writes them: per (campaign type,
#: trigger), the page's own shape first, then the other documented shape tried once on a 404.
TRIGGER_PATH_SHAPES: dict[tuple[str, str], tuple[str, str]] = {
    ("sms", "play"): (
        API_ROOT + "/{stream_id}/campaign/{campaign_id}",
        API_ROOT + "/{stream_id}/campaign//trigger/{campaign_id}",
    ),
    ("sms", "stop"): (
        API_ROOT + "/{stream_id}/campaign//trigger/{campaign_id}",
        API_ROOT + "/{stream_id}/campaign/{campaign_id}",
    ),
    ("voice", "play"): (
        "/api/v2/public/{stream_id}/campaign/trigger/{campaign_id}",
        API_ROOT + "/{stream_id}/campaign//trigger/{campaign_id}",
    ),
    ("voice", "stop"): (
        "/api/v2/public/{stream_id}/campaign/trigger/{campaign_id}",
        API_ROOT + "/{stream_id}/campaign//trigger/{campaign_id}",
    ),
}


class CampaignType(str, Enum):
    """The ``campaignType`` query parameter."""

    SMS = "sms"
    VOICE = "voice"

    @classmethod
    def parse(cls, value: str, field_name: str = "campaign_type") -> CampaignType:
        """Return the member for ``value`` or raise an error naming the field and the rule."""
        try:
            return cls(str(value).lower())
        except ValueError:
            raise InvalidCampaignArgumentError(
                field_name, f"must be one of {[member.value for member in cls]}, got {value!r}"
            ) from None


@dataclass(frozen=True)
class ApiRequest:
    """One Kore call, transport-free. ``replayable`` says whether a blind retry is harmless."""

    method: str
    path: str
    params: dict[str, str]
    json_body: Any | None = None
    replayable: bool = True

    @property
    def description(self) -> str:
        """``METHOD /path`` for messages and logs: the query is left out, no secret is in the path."""
        return f"{self.method} {self.path}"


def validate_campaign_id(campaign_id: Any, field_name: str = "campaign_id") -> str:
    """A campaign id (Kore ids: ``cd-…``) must be a non-empty id fit for a URL path (see
    ``identifier_problem``: not ``.`` or ``..``, no ``/``, whitespace or control characters)."""
    from airflow_campaign_provider.models.common import identifier_problem

    if not isinstance(campaign_id, str) or not campaign_id.strip():
        raise InvalidCampaignArgumentError(field_name, f"must be a non-empty string, got {campaign_id!r}")
    problem = identifier_problem(campaign_id)
    if problem is not None:
        raise InvalidCampaignArgumentError(field_name, f"{problem} (got {campaign_id!r})")
    return campaign_id


class CampaignRequests:
    """Builds every Kore campaign request for one connection."""

    def __init__(self, settings: KoreConnectionSettings) -> None:
        self.settings = settings
        self.base_path = f"{API_ROOT}/{quote(settings.stream_id, safe='')}/campaign"

    def url(self, request: ApiRequest) -> str:
        """The absolute URL without the query (the transport adds ``params``)."""
        return f"{self.settings.base_url}{request.path}"

    def send_arguments(self, request: ApiRequest, token: str) -> dict[str, Any]:
        """Keyword arguments for one send; ``requests`` and ``httpx`` take the very same names."""
        headers = self.headers(token, with_body=request.json_body is not None)
        return {
            "method": request.method,
            "url": self.url(request),
            "params": request.params,
            "json": request.json_body,
            "headers": headers,
        }

    def headers(self, token: str, *, with_body: bool) -> dict[str, str]:
        """Kore's headers: the raw JWT in ``auth`` (not ``Authorization: Bearer``), ``iid``, ``accountId``."""
        headers = {
            "auth": token,
            "iid": self.settings.iid,
            "accountId": self.settings.account_id,
            "Accept": "application/json",
            "Accept-Encoding": ACCEPTED_ENCODINGS,
            "User-Agent": USER_AGENT,
        }
        if with_body:
            headers["Content-Type"] = "application/json"
        return headers

    def _params(self, **extra: str) -> dict[str, str]:
        return {"accountId": self.settings.account_id, **extra}

    def _campaign_path(self, campaign_id: str, suffix: str = "") -> str:
        return f"{self.base_path}/{quote(validate_campaign_id(campaign_id), safe='')}{suffix}"

    def create_sms_campaign(self, payload: Mapping[str, Any]) -> ApiRequest:
        """Create; never replayed blindly, since a replay could create a second campaign."""
        if not isinstance(payload, Mapping):
            raise InvalidCampaignArgumentError(
                "payload", f"must be a JSON object, got {type(payload).__name__}"
            )
        return ApiRequest(
            "POST", self.base_path, self._params(campaignType="sms"), dict(payload), replayable=False
        )

    def get_campaign(self, campaign_id: str) -> ApiRequest:
        return ApiRequest("GET", self._campaign_path(campaign_id), self._params())

    def get_campaign_status(self, campaign_id: str) -> ApiRequest:
        return ApiRequest(
            "POST", self._campaign_path(campaign_id, "/status"), self._params(view="status"), {}
        )

    def trigger_shapes(self, campaign_type: str, action: str) -> tuple[str, ...]:
        """The path templates a play or stop may use, in order: the connection's, else both documented."""
        key = (CampaignType.parse(campaign_type).value, action)
        configured = self.settings.trigger_paths.get(key)
        return (configured,) if configured else TRIGGER_PATH_SHAPES[key]

    def _trigger(
        self, campaign_id: str, campaign_type: str, action: str, shape: int, replayable: bool
    ) -> ApiRequest:
        kind = CampaignType.parse(campaign_type).value
        path = self.trigger_shapes(kind, action)[shape].format(
            stream_id=quote(self.settings.stream_id, safe=""),
            campaign_id=quote(validate_campaign_id(campaign_id), safe=""),
        )
        return ApiRequest("POST", path, self._params(campaignType=kind, trigger=action), {}, replayable)

    def start_campaign(self, campaign_id: str, campaign_type: str = "sms", shape: int = 0) -> ApiRequest:
        """``trigger=play``; not replayed blindly: a lost answer is settled by reading the status."""
        return self._trigger(campaign_id, campaign_type, "play", shape, replayable=False)

    def stop_campaign(self, campaign_id: str, campaign_type: str = "sms", shape: int = 0) -> ApiRequest:
        """``trigger=stop``; replaying a stop cannot send anything."""
        return self._trigger(campaign_id, campaign_type, "stop", shape, replayable=True)

    def delete_campaign(self, campaign_id: str, campaign_type: str = "sms") -> ApiRequest:
        kind = CampaignType.parse(campaign_type).value
        return ApiRequest("DELETE", self._campaign_path(campaign_id), self._params(campaignType=kind))

    def list_campaigns(
        self,
        campaign_type: str = "sms",
        statuses: Iterable[str] | None = None,
        page: int = 1,
        page_size: int = 50,
        *,
        newest_first: bool = False,
    ) -> ApiRequest:
        """One page of ``getAllCampaignDetails`` (pages count from 1); ``newest_first`` sends Kore's
        documented ``sortBy: {"createdAt": "desc"}``."""
        if page < 1:
            raise InvalidCampaignArgumentError("page", f"must be >= 1, got {page}")
        if not 1 <= page_size <= 100:
            raise InvalidCampaignArgumentError("page_size", f"must be between 1 and 100, got {page_size}")
        body: dict[str, Any] = {
            "type": CampaignType.parse(campaign_type).value,
            "limit": page_size,
            "skip": (page - 1) * page_size,
            "page": page,
        }
        if statuses:
            body["filters"] = {"status": list(statuses)}
        if newest_first:
            body["sortBy"] = {"createdAt": "desc"}
        return ApiRequest("POST", f"{self.base_path}/getAllCampaignDetails", self._params(), body)

    # voice campaigns, updates, schedules and per-contact results

    def create_voice_campaign(self, payload: Mapping[str, Any]) -> ApiRequest:
        """Create a voice campaign; never replayed blindly, like an SMS create."""
        return ApiRequest(
            "POST", self.base_path, self._params(campaignType="voice"), dict(payload), replayable=False
        )

    def update_campaign(self, campaign_id: str, campaign_type: str, body: Mapping[str, Any]) -> ApiRequest:
        """PUT the full object; sending the same object twice changes nothing, so it is replayable."""
        kind = CampaignType.parse(campaign_type).value
        return ApiRequest(
            "PUT", self._campaign_path(campaign_id), self._params(campaignType=kind), dict(body)
        )

    def set_schedule(self, campaign_name: str, body: Mapping[str, Any] | None) -> ApiRequest:
        """Enable the schedule ``body`` describes (None disables it); keyed by name, as Kore does."""
        if not isinstance(campaign_name, str) or not campaign_name.strip():
            raise InvalidCampaignArgumentError(
                "campaign_name", f"must be a non-empty string, got {campaign_name!r}"
            )
        enable = "true" if body is not None else "false"
        params = self._params(enableSchedule=enable, campaignName=campaign_name)
        return ApiRequest("POST", f"{self.base_path}/schedule", params, dict(body or {}))

    def contact_results(self, campaign_id: str, page: int, limit: int) -> ApiRequest:
        """One page of a voice campaign's per-contact results (``view=contacts``)."""
        from airflow_campaign_provider.models.checks import validate
        from airflow_campaign_provider.models.voice import ContactsPage

        query, problems = validate(ContactsPage, {"page": page, "limit": limit})
        if query is None:
            field, rule = problems[0]
            raise InvalidCampaignArgumentError("page_size" if field == "limit" else field, rule)
        return ApiRequest(
            "POST",
            self._campaign_path(campaign_id, "/status"),
            self._params(view="contacts"),
            query.model_dump(),
        )


class ContactListRequests:
    """Builds every Kore contact-list request for one connection.

    Lists live under the v2 campaign root; adding contacts is Kore's one v1 call, keyed by the
    list's *name* and the app's iid, documented without the ``accountId`` query parameter.
    """

    def __init__(self, settings: KoreConnectionSettings) -> None:
        self.settings = settings
        self.base_path = f"{API_ROOT}/{quote(settings.stream_id, safe='')}/campaign/contactList"
        self.add_contacts_path = (
            f"/api/1.1/public/{quote(settings.iid, safe='')}/campaign/contactList/addContacts"
        )

    def _params(self, **extra: str) -> dict[str, str]:
        return {"accountId": self.settings.account_id, **extra}

    def _list_path(self, contact_list_id: str, suffix: str = "") -> str:
        list_id = validate_campaign_id(contact_list_id, "contact_list_id")
        return f"{self.base_path}/{quote(list_id, safe='')}{suffix}"

    def create_contact_list(self, body: ContactListCreate) -> ApiRequest:
        """Create; never replayed blindly: a lost answer is settled by looking the name up."""
        path = f"{self.base_path}/createContactList"
        return ApiRequest("POST", path, self._params(), body.wire(), replayable=False)

    def list_contact_lists(self) -> ApiRequest:
        """``getAllListDetails``: the page's table says POST, its sample (followed here) sends GET."""
        return ApiRequest("GET", f"{self.base_path}/getAllListDetails", self._params(type="call"))

    def get_contact_list(self, contact_list_id: str) -> ApiRequest:
        return ApiRequest("GET", self._list_path(contact_list_id), self._params())

    def update_contact_list(self, contact_list_id: str, body: ContactListUpdate) -> ApiRequest:
        """Setting a name or description twice changes nothing more, so it is replayable."""
        return ApiRequest("PUT", self._list_path(contact_list_id), self._params(), body.wire())

    def delete_contact_list(self, contact_list_id: str) -> ApiRequest:
        return ApiRequest("DELETE", self._list_path(contact_list_id), self._params())

    def list_contacts(self, contact_list_id: str, skip: int, limit: int) -> ApiRequest:
        """One page of ``getAllContacts``; Kore leaves its paging parameters undocumented, its
        answers echo ``skip`` and ``limit``, which are sent here."""
        if skip < 0:
            raise InvalidCampaignArgumentError("skip", f"must be >= 0, got {skip}")
        if not 1 <= limit <= 100:
            raise InvalidCampaignArgumentError("page_size", f"must be between 1 and 100, got {limit}")
        path = self._list_path(contact_list_id, "/getAllContacts")
        return ApiRequest("GET", path, self._params(skip=str(skip), limit=str(limit)))

    def add_contacts(self, body: AddContactsBody) -> ApiRequest:
        """Not replayable: on a list that allows duplicates a replay would add the batch twice."""
        return ApiRequest("POST", self.add_contacts_path, {}, body.wire(), replayable=False)
