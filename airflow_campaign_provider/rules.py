"""The documented rules of a create-SMS-campaign body, in one place.

Shared by the client side (``CreateSmsCampaignOperator`` checks its arguments before any HTTP
call) and the server side (the sandbox answers 412 to a body that breaks them), so the two can
never drift apart. Pure functions over plain values; importing this module costs nothing.
"""

from __future__ import annotations

import base64
import re

MAX_NAME_LENGTH = 48
MAX_DESCRIPTION_LENGTH = 256
#: ``priority`` is a string on the wire; higher runs first.
PRIORITIES = ("1", "2", "3", "4", "5")
FREQUENCIES = ("WEEKLY", "DAILY", "CUSTOM")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
#: The one format the create-from-template page documents ("advanced" campaigns run a bot flow).
FORMATS = ("simple",)
#: A phone number in E.164 form: ``+``, a non-zero digit, at most 15 digits in all.
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
#: A time of day as the documentation writes it: ``9:00 AM``, ``12:30 PM``.
TIME_OF_DAY = re.compile(r"(1[0-2]|0?[1-9]):([0-5][0-9]) (AM|PM)")
TIME_OF_DAY_EXAMPLE = "9:00 AM"


def is_e164(phone: str) -> bool:
    """Whether ``phone`` is an E.164 number like ``+14155550100``."""
    return E164.fullmatch(phone) is not None


def minutes_of_day(text: str) -> int | None:
    """Minutes after midnight of a time like ``9:00 AM``, or None when it is not written so."""
    match = TIME_OF_DAY.fullmatch(text)
    if match is None:
        return None
    hour, minute, half = int(match[1]) % 12, int(match[2]), match[3]
    return (hour + (12 if half == "PM" else 0)) * 60 + minute


def is_known_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone pendulum (hence Airflow) knows, e.g. ``Asia/Kolkata``."""
    import pendulum  # on first use: the sandbox's import stays light

    return name in pendulum.timezones()


def encode_message(body: str) -> str:
    """The base64 of a template body's UTF-8 bytes, as ``message.message`` carries it."""
    return base64.b64encode(body.encode("utf-8")).decode("ascii")
