"""The one redaction of a URL's credentials, for every log line, error, ``repr`` and XCom.

A budget store URL may carry a password in each form redis-py honours, and in malformed ones a
person types: ``redis://:pw@host``, ``redis://user:pw@host``, ``redis://host/0?password=pw``,
``redis:/:pw@host``. Each becomes ``***`` where the secret stood; the rest stays readable.
"""

from __future__ import annotations

import re

#: Query parameters that carry a secret.
_SECRET_PARAMS = re.compile(r"([?&;](?:password|passwd|pwd|pass|secret|token|auth)=)[^&;#]*", re.IGNORECASE)
#: ``scheme:`` with any number of slashes, then user information up to the last ``@``.
_USERINFO = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.\-]*:/*)?(?P<info>[^?#]*)@", re.IGNORECASE)

MASK = "***"


def redacted(url: str) -> str:
    """``url`` with every password in it replaced by ``***`` (a user name stays)."""
    text = _SECRET_PARAMS.sub(rf"\g<1>{MASK}", url)
    match = _USERINFO.match(text)
    if match is None:
        return text
    scheme = match.group("scheme") or ""
    user, colon, _ = match.group("info").partition(":")
    if scheme and not colon:
        return text  # a user name alone is no secret
    info = f"{user}:{MASK}" if colon else MASK
    return f"{scheme}{info}@{text[match.end() :]}"
