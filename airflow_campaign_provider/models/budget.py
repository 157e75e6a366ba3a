"""The account budget's settings: declarative, read once from ``[kore_campaign]`` and the connection.

Kept apart from the budget itself (:mod:`airflow_campaign_provider.budget`) so the connection's
model reads them without importing the budget's machinery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

#: The provider's section of Airflow's configuration (``AIRFLOW__KORE_CAMPAIGN__…``).
CONFIG_SECTION = "kore_campaign"
STORE_SCHEMES = ("redis", "rediss", "unix")


class StoreDownPolicy(str, Enum):
    """What a call does when the budget store does not answer."""

    FALLBACK = "fallback"
    FAIL = "fail"


@dataclass(frozen=True)
class BudgetOverrides:
    """The budget settings a connection may set in its extra; None means the provider's setting.

    ``budget_store_url`` set to ``off`` keeps this connection on the per-process budget. Read and
    checked with the rest of the connection (:class:`~airflow_campaign_provider.models.connection.KoreConnectionSettings`).
    """

    store_url: str | None = None
    window_seconds: int | None = None
    on_store_down: StoreDownPolicy | None = None


@dataclass(frozen=True)
class BudgetSettings:
    """How one account's budget is kept: ``requests`` per ``window_seconds``, where, and how safely.

    :param requests: Requests allowed per window (the connection's ``requests_per_minute``).
    :param window_seconds: The window, in whole seconds (Kore: 60); tests and benchmarks shrink it.
    :param store_url: The Redis URL of the shared budget, or None for a per-process budget.
    :param on_store_down: Fall back to the per-process budget with a warning, or fail the call.
    :param store_timeout_seconds: Connect and read timeout of each store call: never a hang.
    :param slack_seconds: Added to the window; covers a slow send and clock skew between hosts.
    :param max_pause_seconds: The longest pause a 429 may impose on every process.
    :param max_wait_seconds: The longest a call waits for a slot before it fails like a 429
        (default: five windows).
    """

    requests: int
    window_seconds: int = 60
    store_url: str | None = None
    on_store_down: StoreDownPolicy = StoreDownPolicy.FALLBACK
    store_timeout_seconds: float = 1.0
    slack_seconds: int = 1
    max_pause_seconds: float = 120.0
    max_wait_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.requests < 1:
            raise ValueError(f"requests: must be at least 1, got {self.requests}")
        if self.window_seconds < 1 or self.slack_seconds < 0:
            raise ValueError("window_seconds must be >= 1 and slack_seconds >= 0")
        if not self.store_timeout_seconds > 0 or self.max_pause_seconds < 0:
            raise ValueError("store_timeout_seconds must be > 0 and max_pause_seconds >= 0")

    @property
    def wait_limit(self) -> float:
        return self.max_wait_seconds if self.max_wait_seconds is not None else 5.0 * self.window_seconds

    @classmethod
    def from_config(cls, requests: int, overrides: BudgetOverrides | None = None) -> BudgetSettings:
        """The provider's ``[kore_campaign]`` settings, with the connection's overrides on top."""
        from airflow_campaign_provider._compat import conf

        def option(name: str) -> str | None:
            value = conf.get(CONFIG_SECTION, name, fallback=None)
            return value if value not in (None, "") else None

        def problem(name: str, rule: str) -> ValueError:
            return ValueError(f"[{CONFIG_SECTION}] {name}: {rule}")

        values: dict[str, Any] = {
            "window_seconds": whole_seconds_setting(
                option("budget_window_seconds"), "budget_window_seconds", problem
            ),
            "store_url": store_url_setting(option("budget_store_url"), problem),
            "on_store_down": policy_setting(option("budget_store_down"), problem),
            "store_timeout_seconds": _positive(
                option("budget_store_timeout_seconds"), "budget_store_timeout_seconds", problem
            ),
            "slack_seconds": whole_seconds_setting(
                option("budget_slack_seconds"), "budget_slack_seconds", problem, low=0
            ),
            "max_pause_seconds": _positive(
                option("budget_max_pause_seconds"), "budget_max_pause_seconds", problem
            ),
        }
        settings = cls(
            requests=requests, **{name: value for name, value in values.items() if value is not None}
        )
        if settings.store_url == "off":
            settings = replace(settings, store_url=None)
        if overrides is None:
            return settings
        return replace(
            settings,
            store_url=None if overrides.store_url == "off" else overrides.store_url or settings.store_url,
            window_seconds=overrides.window_seconds or settings.window_seconds,
            on_store_down=overrides.on_store_down or settings.on_store_down,
        )


def redacted(url: str) -> str:
    """The store URL without its password, for logs and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return parts._replace(netloc=f"{user}{host}{port}").geturl()


# --- reading settings ------------------------------------------------------------------------

Problem = Callable[[str, str], Exception]


def store_url_setting(value: Any, problem: Problem) -> str | None:
    """A budget store URL (redis://, rediss://, unix://), ``off``, or None when unset."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    if text.lower() == "off":
        return "off"
    scheme = text.partition("://")[0].lower()
    if scheme not in STORE_SCHEMES or "://" not in text:
        raise problem(
            "budget_store_url",
            f"must be a redis://, rediss:// or unix:// URL, or off; got {redacted(text)!r}",
        )
    return text


def whole_seconds_setting(value: Any, name: str, problem: Problem, low: int = 1) -> int | None:
    """Whole seconds, at least ``low``, or None when unset."""
    if value is None or value == "":
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        number = low - 1
    if isinstance(value, bool) or number < low:
        raise problem(name, f"must be a whole number of seconds >= {low}, got {value!r}")
    return number


def _positive(value: Any, name: str, problem: Problem) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number > 0:
        raise problem(name, f"must be a positive number of seconds, got {value!r}")
    return number


def policy_setting(value: Any, problem: Problem) -> StoreDownPolicy | None:
    """``fallback`` or ``fail``, or None when unset."""
    if value is None or value == "":
        return None
    try:
        return StoreDownPolicy(str(value).strip().lower())
    except ValueError:
        raise problem(
            "budget_store_down", f"must be one of {[p.value for p in StoreDownPolicy]}, got {value!r}"
        ) from None
