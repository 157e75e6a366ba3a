"""Phone numbers as people write them, read as one number: Google's libphonenumber (``phonenumbers``).

Kore's page lets a number be written "in international or local format", and its own samples
write them as digits without ``+`` (``"91223334xxxxx"``). So ``+1 415 555 0304``,
``+1-415-555-0305``, ``001 415 555 0306``, ``14155550307`` (Kore's way) and, with
``default_region="US"``, ``(415) 555-0308`` are all one E.164 number each. The provider sends
E.164 and compares numbers only through :func:`phone_key`, everywhere (the file, the list Kore
holds, DNC lists, results), so one person is one number however it is written.

A number is accepted when libphonenumber finds it *possible* (the right length for its country):
validity rules change with numbering plans, and Kore, not this provider, decides what it dials.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import phonenumbers

#: A national number written without its country code needs a region: ``US``, ``GB``, ``IN``…
REGION_RULE = "an ISO 3166 region code libphonenumber knows, like US, GB or IN"


class PhoneNumberProblem(ValueError):
    """Why a value is not a phone number; the message names the fix."""


def region_problem(region: Any, *, known: bool = True) -> str | None:
    """Why ``region`` is not a usable ``default_region`` (None, or a known region code), or None.

    ``known=False`` checks only its shape (two letters), without loading libphonenumber: what a
    DAG file's parse can afford; the task checks the region is known before it reads a number.
    """
    if region is None:
        return None
    if not isinstance(region, str) or not (len(region.strip()) == 2 and region.strip().isalpha()):
        return f"must be {REGION_RULE}, or None; got {region!r}"
    if not known:
        return None
    import phonenumbers  # its metadata loads on first use, not when a DAG file is parsed

    if region.strip().upper() not in phonenumbers.SUPPORTED_REGIONS:
        return f"must be {REGION_RULE}, or None; got {region!r}"
    return None


def normalise_region(region: str | None) -> str | None:
    """``region`` checked and upper-cased (``"us"`` → ``"US"``); ``ValueError`` naming the rule."""
    problem = region_problem(region)
    if problem is not None:
        raise PhoneNumberProblem(f"default_region: {problem}")
    return region.strip().upper() if region else None


def _parsed(text: str, default_region: str | None) -> phonenumbers.PhoneNumber | None:
    """The number ``text`` writes, or None. Bare digits with no region are read as Kore writes
    them: international, without the ``+``."""
    import phonenumbers

    digits = text.replace(" ", "")
    candidates = [text, f"+{digits}"] if digits.isdigit() else [text]
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, default_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return number
    return None


def to_e164(value: Any, default_region: str | None = None) -> str:
    """``value`` as E.164 (``+14155550304``), or ``PhoneNumberProblem`` saying why not."""
    if not isinstance(value, str):
        raise PhoneNumberProblem(f"phone {value!r} is not a string")
    text = value.strip()
    if not text:
        raise PhoneNumberProblem("phone is empty")
    number = _parsed(text, default_region)
    if number is None:
        hint = "" if default_region else "; a national number needs default_region (e.g. 'US')"
        raise PhoneNumberProblem(
            f"phone {text!r} is not a phone number in international format like +1 415 555 0100{hint}"
        )
    import phonenumbers

    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_key(value: Any, default_region: str | None = None) -> str:
    """What two writings of one number share: its E.164 form, or the text itself when unreadable
    (an unreadable entry of Kore's list then matches only itself)."""
    try:
        return to_e164(value, default_region)
    except PhoneNumberProblem:
        return str(value).strip()
