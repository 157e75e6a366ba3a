"""The hooks: :mod:`.campaign` (sync, for tasks) and :mod:`.campaign_async` (for triggers)."""

#: The connection every hook, operator and sensor uses unless told otherwise.
DEFAULT_CONN_ID = "kore_campaign_default"
#: Connect and read timeouts of each call, in seconds.
DEFAULT_TIMEOUT = (10.0, 30.0)
