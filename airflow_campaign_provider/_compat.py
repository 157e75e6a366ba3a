"""Airflow names that moved between the Airflow lines this provider supports (3.1 to 3.3).

Every module imports them from here, so a move in Airflow is mended in one file. Most come
through common-compat's ``sdk`` module, which takes ``airflow.sdk``'s where the running Airflow
has them (3.1 lacks ``conf`` and the task exceptions there). The two async helpers are small
fallbacks for what Airflow < 3.3 (``amask_secret``) and common-compat < 1.21 (the newest on
Python 3.10: ``get_async_extra_dejson``) lack. Importing this module stays cheap: each name is
resolved on first use (a hook module asks for ``BaseHook`` only, and loads no operator or sensor
base).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider._lazy import lazy_names

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import (
        AirflowFailException,
        AirflowSensorTimeout,
        BaseHook,
        BaseOperator,
        BaseSensorOperator,
        PokeReturnValue,
        conf,
    )
    from airflow.sdk import Connection

__all__ = [
    "AirflowFailException",
    "AirflowSensorTimeout",
    "BaseHook",
    "BaseOperator",
    "BaseSensorOperator",
    "PokeReturnValue",
    "amask_secret",
    "aread_connection",
    "conf",
]


#: Each of common-compat's names (all but the two async helpers below), imported when first asked for.
__getattr__ = lazy_names(
    __name__,
    {
        name: "airflow.providers.common.compat.sdk"
        for name in __all__
        if name not in ("amask_secret", "aread_connection")
    },
)


async def amask_secret(secret: str) -> None:
    """Hide ``secret`` in every log from now on, without blocking the event loop.

    Airflow 3.3 has ``amask_secret``; before it the synchronous ``mask_secret`` runs in a worker
    thread, where waiting on the supervisor is safe (as common-compat does for connections).
    """
    from airflow.sdk import log

    if hasattr(log, "amask_secret"):
        await log.amask_secret(secret)
    else:
        await asyncio.to_thread(log.mask_secret, secret)


async def aread_connection(hook: BaseHook, conn_id: str) -> tuple[Connection, dict[str, Any]]:
    """The connection ``conn_id`` and its extra, read without a blocking call on the event loop."""
    try:
        from airflow.providers.common.compat.connection import get_async_connection, get_async_extra_dejson
    except ImportError:  # common-compat < 1.21: its get_async_connection may mask synchronously
        # Connection.aextra_dejson came with Airflow 3.3.2, whose aget_connection masks asynchronously.
        from airflow.sdk import Connection as SdkConnection

        if hasattr(SdkConnection, "aextra_dejson"):
            conn = await hook.aget_connection(conn_id)
            return conn, await conn.aextra_dejson()
        conn = await asyncio.to_thread(hook.get_connection, conn_id)
        return conn, await asyncio.to_thread(lambda: conn.extra_dejson)
    conn = await get_async_connection(conn_id, hook=hook)
    return conn, await get_async_extra_dejson(conn)
