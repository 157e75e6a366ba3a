"""The exactly-once guarantees, one module each, every one a function taking a hook first.

An operator, a TaskFlow task or a script gets the same guarantee with one call::

    from airflow_campaign_provider.lifecycle.start import start_campaign_once

    start_campaign_once(CampaignHook("kore_campaign_default"), campaign_id)

* :mod:`.lookup`: find campaigns by name, reading only those created since a given time.
* :mod:`.create`: create once; adopt a matching same-named campaign; keep the first created.
* :mod:`.start`: play a ``Ready`` campaign once; settle a lost answer by its status.
* :mod:`.stop`: stop a campaign only if it runs; stop what a killed task started.
* :mod:`.delete`: delete if it exists, stopping it first.
* :mod:`.wait`: read a status against a goal, or poll until it or a deadline.
* :mod:`.update`: change a campaign that has not started, checked before the PUT.
* :mod:`.teardown`: stop and delete any number of campaigns, each exactly once.
* :mod:`.contacts`: create a contact list once, upload contacts once, delete a list once.
* :mod:`.schedule`: enable or disable a campaign's schedule by a name that singles it out.

The hook binds each under its old method name (``hook.start_campaign_once(...)``).
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

#: What a create does when a same-named campaign exists: ``reuse`` it if it matches, or ``fail``.
IF_EXISTS_CHOICES = ("reuse", "fail")
#: Contacts per ``addContacts`` call unless a task says otherwise (Kore documents no cap).
DEFAULT_BATCH_SIZE = 1000


class LazyUnit:
    """A unit of this package bound as a hook method (after ``args``, like ``partialmethod``), its
    module imported when the method is first looked up: importing the hook stays cheap, and a
    task loads only the units it calls."""

    owner: type
    attribute: str

    def __init__(self, module: str, name: str, *args: Any) -> None:
        self.module, self.name, self.args = module, name, args

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.owner, self.attribute = owner, attribute

    def __get__(self, hook: object, owner: type | None = None) -> Any:
        unit = getattr(importlib.import_module(f"{__name__}.{self.module}"), self.name)
        method = functools.partialmethod(unit, *self.args) if self.args else unit
        setattr(self.owner, self.attribute, method)  # later lookups find the method itself
        return method.__get__(hook, owner)
