"""The settings an Airflow connection of type ``kore_campaign`` holds, as one validated model.

Every field is checked at once and every problem named the way the connection form shows it
(``host``, ``login (Client ID)``, ``extra.account_id``…), before any request is built.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    model_validator,
)

from airflow_campaign_provider.exceptions import CampaignConnectionConfigError
from airflow_campaign_provider.models.budget import (
    BudgetOverrides,
    StoreDownPolicy,
    policy_setting,
    store_url_setting,
    whole_seconds_setting,
)
from airflow_campaign_provider.models.common import (
    Flag,
    broken,
    identifier_problem,
    problems_of,
    show,
    whole_number,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Kore's documented limit for Contact Center APIs, campaigns included.
DEFAULT_REQUESTS_PER_MINUTE = 60
#: Kore accepts an ``exp`` of at most one hour.
MAX_TOKEN_TTL_SECONDS = 3600
#: The connection extra that overrides each start or stop path, by (campaign type, trigger).
TRIGGER_PATH_EXTRAS = {
    ("sms", "play"): "sms_start_path",
    ("sms", "stop"): "sms_stop_path",
    ("voice", "play"): "voice_start_path",
    ("voice", "stop"): "voice_stop_path",
}
#: Where a per-type path starts when the older ``trigger_path`` (after ``…/campaign``) sets it.
_CAMPAIGN_ROOT = "/campaign/api/v2/public/{stream_id}/campaign"
DEFAULT_JWT_SUBJECT = "airflow-campaign-provider"


def _required(value: Any) -> str:
    text = str(value).strip() if value is not None else ""
    if not text:
        raise broken("required", "is required")
    return text


def _optional(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def normalize_base_url(host: Any, port: Any = None) -> str:
    """``scheme://host[:port]`` from a connection host; a host without a scheme means https.

    Only a scheme, a host (an IPv6 address in brackets) and a port: credentials in the URL would
    reach Kore as HTTP Basic auth, and a path, query or fragment would put the port, or the API's
    own path, in the wrong place.
    """
    text = _required(host)
    if "://" not in text:
        text = f"https://{text}"
    if any(char.isspace() or unicodedata.category(char) == "Cc" for char in text):
        raise broken("url", f"is not a valid URL: {show(host)}")
    try:
        parts = urlsplit(text)
        url_port = parts.port
    except ValueError as error:
        raise broken(
            "url", f"is not a valid URL ({error}; an IPv6 address goes in brackets): {show(host)}"
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise broken("scheme", f"scheme must be http or https, got {parts.scheme!r}")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise broken(
            "userinfo",
            "must not hold user:password@ (it would be sent to Kore as Basic auth); "
            "the client id and secret go in login and password",
        )
    if parts.path.strip("/") or parts.query or parts.fragment or "?" in text or "#" in text:
        raise broken(
            "url", f"must be scheme://host[:port] only, without a path, query or fragment: {show(host)}"
        )
    if not parts.hostname:
        raise broken("url", f"is not a valid URL: {show(host)}")
    if url_port is not None and port and int(port) != url_port:
        raise broken("port", f"the host says port {url_port} but the port field says {port}")
    hostname = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    final_port = url_port if url_port is not None else (int(port) if port else None)
    return f"{scheme}://{hostname}" + (f":{final_port}" if final_port else "")


def _trigger_path(value: Any) -> str:
    path = _optional(value)
    if path and "{campaign_id}" not in path:
        raise broken("trigger_path", "must contain '{campaign_id}'")
    return path


def _typed_trigger_path(value: Any) -> str:
    path = _optional(value)
    if path and ("{campaign_id}" not in path or not path.startswith("/")):
        raise broken(
            "trigger_path", "must start with '/' and contain '{campaign_id}' (and may use '{stream_id}')"
        )
    return path


TypedTriggerPath = Annotated[str, PlainValidator(_typed_trigger_path)]


def _base_url(value: Any) -> str:
    host, port = value if isinstance(value, tuple) else (value, None)
    return normalize_base_url(host, port)


def _budget_store_url(value: Any) -> str | None:
    return store_url_setting(value, broken)


def _budget_window(value: Any) -> int | None:
    return whole_seconds_setting(value, "budget_window_seconds", broken)


def _budget_store_down(value: Any) -> StoreDownPolicy | None:
    return policy_setting(value, broken)


def _identifier(value: Any, *, optional: bool = False) -> str:
    text = _optional(value) if optional else _required(value)
    problem = identifier_problem(text) if text else None
    if problem is not None:
        raise broken("identifier", problem)
    return text


Required = Annotated[str, PlainValidator(_required)]
Optional = Annotated[str, PlainValidator(_optional)]
#: An id sent in the URL path or a header: see ``identifier_problem``.
Identifier = Annotated[str, PlainValidator(_identifier)]
OptionalIdentifier = Annotated[str, PlainValidator(lambda value: _identifier(value, optional=True))]


class KoreConnectionSettings(BaseModel):
    """Everything a request needs from an Airflow connection of type ``kore_campaign``."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    base_url: Annotated[str, PlainValidator(_base_url)] = Field(validation_alias="host")
    client_id: Required = Field(validation_alias="login (Client ID)")
    client_secret: Required = Field(validation_alias="password (Client Secret)", repr=False)
    account_id: Identifier = Field(validation_alias="extra.account_id")
    stream_id: Identifier = Field(validation_alias="extra.stream_id")
    #: The ``iid`` header; the stream id when the connection leaves it out.
    iid: OptionalIdentifier = Field(default="", validation_alias="extra.iid")
    #: Read from ``jwt_lifetime_seconds``, else from its name in 0.1.0: Airflow's UI masks any
    #: extra named with a sensitive word ("token", "secret"...), and its form then saves "***".
    token_ttl_seconds: Annotated[int, whole_number(60, MAX_TOKEN_TTL_SECONDS)] = Field(
        default=MAX_TOKEN_TTL_SECONDS,
        validation_alias=AliasChoices("extra.jwt_lifetime_seconds", "extra.token_ttl_seconds"),
    )
    enforce_jti: Flag = Field(default=False, validation_alias="extra.enforce_jti")
    jwt_subject: Annotated[str, PlainValidator(lambda v: _optional(v) or DEFAULT_JWT_SUBJECT)] = Field(
        default=DEFAULT_JWT_SUBJECT, validation_alias="extra.jwt_subject"
    )
    #: The older setting: one path after ``…/campaign`` for every play and stop; empty by default.
    trigger_path: Annotated[str, PlainValidator(_trigger_path)] = Field(
        default="", validation_alias="extra.trigger_path"
    )
    #: Start and stop paths from the host root, per campaign type; empty means the page's own.
    sms_start_path: TypedTriggerPath = Field(default="", validation_alias="extra.sms_start_path")
    sms_stop_path: TypedTriggerPath = Field(default="", validation_alias="extra.sms_stop_path")
    voice_start_path: TypedTriggerPath = Field(default="", validation_alias="extra.voice_start_path")
    voice_stop_path: TypedTriggerPath = Field(default="", validation_alias="extra.voice_stop_path")
    requests_per_minute: Annotated[int, whole_number(1, 100_000)] = Field(
        default=DEFAULT_REQUESTS_PER_MINUTE, validation_alias="extra.requests_per_minute"
    )

    budget_store_url: Annotated[str | None, PlainValidator(_budget_store_url)] = Field(
        default=None, validation_alias="extra.budget_store_url", repr=False
    )
    budget_window_seconds: Annotated[int | None, PlainValidator(_budget_window)] = Field(
        default=None, validation_alias="extra.budget_window_seconds"
    )
    budget_store_down: Annotated[StoreDownPolicy | None, PlainValidator(_budget_store_down)] = Field(
        default=None, validation_alias="extra.budget_store_down"
    )

    @property
    def budget(self) -> BudgetOverrides:
        """What this connection changes of the provider's ``[kore_campaign]`` budget settings."""
        return BudgetOverrides(self.budget_store_url, self.budget_window_seconds, self.budget_store_down)

    @model_validator(mode="after")
    def _iid_defaults_to_stream(self) -> KoreConnectionSettings:
        if not self.iid:
            object.__setattr__(self, "iid", self.stream_id)
        return self

    @property
    def trigger_paths(self) -> dict[tuple[str, str], str]:
        """The start and stop paths this connection sets, by (campaign type, trigger)."""
        paths = {}
        for key, name in TRIGGER_PATH_EXTRAS.items():
            path = getattr(self, name) or (_CAMPAIGN_ROOT + self.trigger_path if self.trigger_path else "")
            if path:
                paths[key] = path
        return paths

    @classmethod
    def from_connection(
        cls,
        *,
        host: str | None,
        port: int | None,
        login: str | None,
        password: str | None,
        extra: Mapping[str, Any],
    ) -> KoreConnectionSettings:
        """Validate connection fields; every missing or malformed one is named in one error."""
        raw: dict[str, Any] = {f"extra.{key}": value for key, value in extra.items() if value is not None}
        raw |= {"host": (host, port), "login (Client ID)": login, "password (Client Secret)": password}
        try:
            return cls.model_validate(raw)
        except ValidationError as error:
            (field, rule), *more = problems_of(error)
            raise CampaignConnectionConfigError(field, rule, more) from None
