"""Kore.ai contact lists and campaigns as Airflow assets: the ``kore://`` URI scheme.

``kore://{host}/{stream_id}/contact-list/{name}`` and ``kore://{host}/{stream_id}/campaign/{name}``
name one list or campaign of one bot (stream) on one Kore.ai host. Kore matches both names
case-insensitively, so the URI holds the name lower-cased (and percent-encoded): ``"Season Gold"``
and ``"season gold"`` are one asset, as they are one list in Kore.

A DAG is parsed without reading any connection, so the host and stream are written where the asset
is: ``kore_contact_list_asset("VIP", stream_id="st-…")`` (the host defaults to Kore's cloud,
``platform.kore.ai``). At run time the operators build the same URI from the connection they use,
and publish their events through the aliases below; see ``docs/lineage.md``.

Airflow reads :func:`normalize_kore_uri` and :func:`convert_kore_asset_to_openlineage` from
``get_provider_info()["asset-uris"]``. Importing this module stays cheap: DAG files import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, quote, unquote, urlsplit

from airflow.sdk import Asset, AssetAlias

if TYPE_CHECKING:
    from airflow.providers.common.compat.openlineage.facet import Dataset

SCHEME = "kore"
CONTACT_LIST = "contact-list"
CAMPAIGN = "campaign"
KINDS = (CONTACT_LIST, CAMPAIGN)
#: Kore.ai's cloud, the host of an asset that names none.
DEFAULT_HOST = "platform.kore.ai"
#: The asset group of every Kore asset (the UI groups them by it).
GROUP = "kore"

#: Every campaign operator publishes through these: one event per list or campaign it changed.
CONTACT_LISTS_ALIAS = AssetAlias(name="kore_contact_lists", group=GROUP)
CAMPAIGNS_ALIAS = AssetAlias(name="kore_campaigns", group=GROUP)
RESULTS_ALIAS = AssetAlias(name="kore_campaign_results", group=GROUP)


def kore_host(host: str) -> str:
    """The URI's host from a connection's host or a bare one: no scheme, lower case, no :443."""
    text = str(host).strip()
    parts = urlsplit(text if "://" in text else f"https://{text}")
    if not parts.hostname:
        raise ValueError(f"kore asset: host must name a host, like {DEFAULT_HOST!r}, got {host!r}")
    netloc = parts.hostname.lower()
    netloc = f"[{netloc}]" if ":" in netloc else netloc
    default_port = {"https": 443, "http": 80}.get(parts.scheme)
    if parts.port and parts.port != default_port:
        netloc = f"{netloc}:{parts.port}"
    return netloc


@dataclass(frozen=True)
class KoreResource:
    """One contact list or campaign of one stream on one Kore.ai host (names as Kore matches them)."""

    host: str
    stream_id: str
    kind: str
    name: str

    @classmethod
    def of(cls, kind: str, name: str, *, stream_id: str, host: str = DEFAULT_HOST) -> KoreResource:
        """Checked and normalized: a problem raises ``ValueError`` naming the argument and the fix."""
        if kind not in KINDS:
            raise ValueError(f"kore asset: kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"kore asset: name must be the {kind}'s name in Kore.ai, got {name!r}")
        stream = str(stream_id or "").strip()
        if not stream or "/" in stream:
            raise ValueError(
                f"kore asset: stream_id must be the bot's stream id (st-…), as in the connection, got {stream_id!r}"
            )
        return cls(kore_host(host), stream, kind, name.strip().lower())

    @classmethod
    def from_uri(cls, uri: str) -> KoreResource:
        """Parse ``kore://host/stream/kind/name``; anything else raises ``ValueError`` saying so."""
        parts = urlsplit(uri)
        segments = parts.path.strip("/").split("/")
        if parts.scheme.lower() != SCHEME or not parts.netloc or len(segments) != 3:
            raise ValueError(
                f"{uri!r} is not a Kore asset URI: write kore://{{host}}/{{stream_id}}/contact-list/{{name}} "
                "or .../campaign/{name}, or build it with kore_contact_list_asset() or kore_campaign_asset()"
            )
        stream_id, kind, name = (unquote(segment) for segment in segments)
        return cls.of(kind, name, stream_id=stream_id, host=parts.netloc)

    @property
    def uri(self) -> str:
        path = "/".join(quote(part, safe="") for part in (self.stream_id, self.kind, self.name))
        return f"{SCHEME}://{self.host}/{path}"

    def asset(self, extra: dict[str, Any] | None = None) -> Asset:
        """The Airflow asset; its name is its URI, so two DAGs naming it alike share it."""
        return Asset(name=self.uri, uri=self.uri, group=GROUP, extra=extra)

    @property
    def openlineage_namespace(self) -> str:
        """OpenLineage's naming: the namespace is scheme and authority, the name the rest."""
        return f"{SCHEME}://{self.host}"

    @property
    def openlineage_name(self) -> str:
        return f"{self.stream_id}/{self.kind}/{self.name}"


def kore_contact_list_asset(name: str, *, stream_id: str, host: str = DEFAULT_HOST) -> Asset:
    """The asset of a Kore.ai contact list, to schedule a DAG on (``schedule=[...]``) or declare as
    an outlet. ``stream_id`` and ``host`` are those of the connection the operators use."""
    return KoreResource.of(CONTACT_LIST, name, stream_id=stream_id, host=host).asset()


def kore_campaign_asset(name: str, *, stream_id: str, host: str = DEFAULT_HOST) -> Asset:
    """The asset of a Kore.ai campaign, to schedule a DAG on or declare as an outlet."""
    return KoreResource.of(CAMPAIGN, name, stream_id=stream_id, host=host).asset()


def kore_resource_of(asset: Any) -> KoreResource | None:
    """The Kore resource an asset names, or None when it is no Kore asset."""
    uri = getattr(asset, "uri", None)
    if not isinstance(asset, Asset) or not isinstance(uri, str) or not uri.startswith(f"{SCHEME}://"):
        return None
    return KoreResource.from_uri(uri)


def normalize_kore_uri(parts: SplitResult) -> SplitResult:
    """Airflow's normaliser of ``kore://`` URIs (``asset-uris`` handler): one spelling per resource."""
    resource = KoreResource.from_uri(parts.geturl())
    return urlsplit(resource.uri)


def convert_kore_asset_to_openlineage(asset: Asset, lineage_context: Any = None) -> Dataset:
    """The OpenLineage dataset of a Kore asset (``asset-uris`` converter); the provider calls it."""
    from airflow.providers.common.compat.openlineage.facet import Dataset

    resource = KoreResource.from_uri(asset.uri)
    return Dataset(namespace=resource.openlineage_namespace, name=resource.openlineage_name)
