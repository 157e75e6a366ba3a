"""Errors that say what to do: which operator and task, which argument, the rule, and the fix.

- :class:`ExplainedArgumentsMeta`, the campaign operators' metaclass, names the operator and the
  task in every error raised while a task is built (a DAG file being parsed), and turns Airflow's
  bare ``missing keyword argument 'calling_hours'`` into a sentence naming the argument, what
  it holds (from the class's ``:param:`` line) and where it can come from.
- :func:`reject_contact_list_ids` refuses, when the DAG is parsed, a contact list operator's
  output (its id) where a campaign takes list names; :func:`contact_list_names` resolves an id
  that arrives rendered to the list's name, before the campaign is created.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider._compat import BaseOperator
from airflow_campaign_provider.exceptions import CampaignArgumentsError, CampaignNotFoundError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from airflow.sdk.bases.operator import BaseOperatorMeta as _OperatorMeta

    from airflow_campaign_provider.hooks.campaign import CampaignHook
else:  # the metaclass of whichever Airflow line is installed
    _OperatorMeta = type(BaseOperator)

log = logging.getLogger(__name__)

#: A contact list id as Kore makes them (``cl-`` and a UUID).
CONTACT_LIST_ID = re.compile(
    r"^cl-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_MISSING = re.compile(r"^missing keyword arguments? (?P<names>.+)$")
REFERENCE_URL = (
    "https://github.com/kore-campaigns/airflow-campaign-provider/blob/main/docs/reference/index.md"
)


class MissingArgumentError(TypeError):
    """A required operator argument was not given (a ``TypeError``, as Python's own)."""


def param_doc(cls: type, argument: str) -> str | None:
    """The ``:param argument:`` text of ``cls`` or its bases, on one line."""
    pattern = re.compile(rf":param {re.escape(argument)}:\s*(?P<text>.+?)(?=\n\s*:|\n\s*\n|\Z)", re.S)
    for klass in cls.__mro__:
        found = pattern.search(klass.__doc__ or "")
        if found:
            return " ".join(found["text"].split())
    return None


def _who(operator: Any, kwargs: dict[str, Any]) -> str:
    return f"{type(operator).__name__}(task_id={kwargs.get('task_id')!r})"


def missing_arguments_message(operator: Any, kwargs: dict[str, Any], names: Sequence[str]) -> str:
    """``CreateSmsCampaignOperator(task_id='create') needs calling_hours: <what it holds>. …``"""
    lines = [
        f"{_who(operator, kwargs)} needs {', '.join(names)}, which {'was' if len(names) == 1 else 'were'} not given."
    ]
    for name in names:
        doc = param_doc(type(operator), name)
        lines.append(f"  - {name}: {doc}" if doc else f"  - {name}")
    lines.append(
        "Pass it to the operator, or through the DAG's default_args. Every argument and its rules: "
        f"{REFERENCE_URL}"
    )
    return "\n".join(lines)


def _explained(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            init(self, *args, **kwargs)
        except MissingArgumentError:
            raise
        except TypeError as error:
            missing = _MISSING.match(str(error))
            if missing is None:
                raise
            names = re.findall(r"'(\w+)'", missing["names"])
            raise MissingArgumentError(missing_arguments_message(self, kwargs, names)) from None
        except CampaignArgumentsError as error:
            if not getattr(error, "names_its_task", False):
                error.args = (f"{error.args[0]}\n(task {kwargs.get('task_id')!r}, {type(self).__name__})",)
                error.names_its_task = True  # type: ignore[attr-defined]
            raise

    return wrapper


class ExplainedArgumentsMeta(_OperatorMeta):
    """Airflow's operator metaclass, plus errors at construction that name the operator and task.

    Airflow wraps each operator class's ``__init__`` to apply ``default_args`` and check required
    arguments; this wraps that once more, outermost, to explain what it raises.
    """

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any) -> Any:
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        cls.__init__ = _explained(cls.__init__)
        return cls


def reject_contact_list_ids(operator: Any) -> None:
    """At parse time: ``contact_lists=[create_list.output]`` passes the list's id where Kore takes
    its name; say so, with the name to pass, before anything is uploaded."""
    # Looked up, not imported: the list operators import this module (no import circle), and
    # when their module is not loaded no argument can be one of their outputs.
    module = sys.modules.get("airflow_campaign_provider.operators.contact_list")
    list_operator = getattr(module, "CreateContactListOperator", None)
    if list_operator is None:
        return
    given = operator.contact_lists
    items = given if isinstance(given, (list, tuple)) else [given]
    for item in items:
        source = getattr(item, "operator", None)
        if isinstance(source, list_operator):
            raise CampaignArgumentsError(
                [
                    (
                        "contact_lists",
                        f"takes contact list names; got the output of task {source.task_id!r}, which "
                        f"is the list's id (cl-…), not its name. The list's name is {source.name!r}: "
                        f"pass contact_lists=[{source.name!r}] and keep {source.task_id} upstream",
                    )
                ]
            )


def contact_list_names(hook: CampaignHook, task_id: str, contact_lists: Any) -> Any:
    """The rendered ``contact_lists`` with every list id (``cl-…``) replaced by that list's name;
    an id that names no list fails naming it, before the campaign is created. Anything but a list
    is returned as it is, for the argument's own rules to refuse."""
    if not isinstance(contact_lists, (list, tuple)):
        return contact_lists
    names: list[Any] = []
    for entry in contact_lists:
        if not isinstance(entry, str) or not CONTACT_LIST_ID.match(entry):
            names.append(entry)
            continue
        try:
            name = str(hook.get_contact_list(entry)["name"])
        except CampaignNotFoundError:
            raise CampaignArgumentsError(
                [
                    (
                        "contact_lists",
                        f"takes contact list names; got the id {entry}, and no contact list has it",
                    )
                ]
            ) from None
        log.warning(
            "Task %s: contact_lists takes names; got the id %s, the list's name is %r; using the name.",
            task_id,
            entry,
            name,
        )
        names.append(name)
    return names
