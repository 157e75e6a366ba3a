"""Kore's own documentation pages, read at test time: their sample requests and answers.

The pages live beside the repository, in ``../shared/kore-api-docs/`` (the five seed pages, and
Kore's other public pages in ``public/``), so that any clone whose parent holds ``shared/`` reads
the very text Kore publishes. A missing folder is an error, never a skip: without the pages the
conformance suite would test nothing.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT.parent / "shared" / "kore-api-docs"
_FENCE = re.compile(r"```(\w*)[^\n]*\n(.*?)```", re.DOTALL)
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


class KorePagesMissingError(RuntimeError):
    """The pages are not where the suite reads them."""


def docs_root() -> Path:
    """``../shared/kore-api-docs`` from the repository root, or an error saying where it looked."""
    if not (DOCS / "public").is_dir():
        raise KorePagesMissingError(
            f"Kore's documentation pages are not at {DOCS} (the seed pages and public/): the "
            "conformance suite reads Kore's samples from there. Put a copy of shared/kore-api-docs "
            "beside this repository."
        )
    return DOCS


@dataclass(frozen=True)
class SampleRequest:
    """A page's curl sample: what Kore documents sending."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any = None
    body_text: str | None = None

    @property
    def path_template(self) -> str:
        """The path with every ``{{placeholder}}`` as ``{}``."""
        return _PLACEHOLDER.sub("{}", self.path)


@dataclass
class KorePage:
    """One page: its file name, its sample requests and its sample answers (JSON)."""

    name: str
    text: str
    requests: list[SampleRequest] = field(default_factory=list)
    answers: list[Any] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # samples that are not valid JSON
    repaired: list[str] = field(default_factory=list)  # read once a missing comma was put back


def parse_curl(text: str) -> SampleRequest:
    """A curl command as Kore's pages write it (``--location``, ``--request``, ``--header``, ``--data``)."""
    words = shlex.split(text.replace("\\\n", " ").replace("\\&", "&"))
    method, url, headers, data = "", "", {}, None
    index = 1
    while index < len(words):
        word = words[index]
        if word in ("--request", "-X"):
            method, index = words[index + 1], index + 2
        elif word in ("--header", "-H"):
            name, _, value = words[index + 1].partition(":")
            headers[name.strip()] = value.strip()
            index += 2
        elif word in ("--data", "--data-raw", "-d"):
            data, index = words[index + 1], index + 2
        elif word.startswith("-"):
            index += 1
        else:
            url, index = word, index + 1
    parts = urlsplit(url.replace("hhttps://", "https://"))
    body = None
    if data is not None:
        try:
            body = json.loads(data)
        except ValueError:
            body = lenient_json(data)
    return SampleRequest(
        method=method or ("POST" if data is not None else "GET"),
        path=parts.path,
        query=dict(parse_qsl(parts.query, keep_blank_values=True)),
        headers=headers,
        body=body,
        body_text=data,
    )


def _json_objects(text: str) -> list[str]:
    """Every top-level ``{…}`` of a page without fences (the seed pages), by brace matching."""
    found, depth, start, in_string, escaped = [], 0, -1, False, False
    for index, char in enumerate(text):
        if in_string:
            escaped = char == "\\" and not escaped
            if char == '"' and not escaped:
                in_string = False
            elif char != "\\":
                escaped = False
            continue
        if char == '"' and depth:
            in_string = True
        elif char == "{" and (depth or index == 0 or text[index - 1] == "\n"):
            start = index if depth == 0 else start
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                found.append(text[start : index + 1])
    return found


def _curl_commands(text: str) -> list[str]:
    commands, lines = [], text.splitlines()
    for index, line in enumerate(lines):
        if line.lstrip().startswith("curl "):
            command = [line]
            while index + len(command) < len(lines) and (
                command[-1].rstrip().endswith("\\") or "\n".join(command).count("'") % 2
            ):
                command.append(lines[index + len(command)])
            commands.append("\n".join(command))
    return commands


@cache
def page(name: str) -> KorePage:
    """The page ``name`` (``get-sms-campaign.txt`` or ``public/start-sms-campaign-v2.md``), parsed."""
    text = (docs_root() / name).read_text(encoding="utf-8")
    result = KorePage(name, text)
    if name.endswith(".md"):
        blocks = [(lang, body) for lang, body in _FENCE.findall(text)]
        curls = [body for lang, body in blocks if body.lstrip().startswith("curl")]
        jsons = [body for lang, body in blocks if lang == "json" and not body.lstrip().startswith("curl")]
    else:
        curls = _curl_commands(text)
        curl_text = "\n".join(curls)
        jsons = [obj for obj in _json_objects(text) if obj not in curl_text]
    result.requests = [parse_curl(command) for command in curls]
    for body in jsons:
        try:
            result.answers.append(json.loads(body))
        except ValueError:
            repaired = lenient_json(body)
            (result.unreadable if repaired is None else result.repaired).append(body)
            if repaired is not None:
                result.answers.append(repaired)
    return result


_MISSING_COMMA = re.compile(r'(["\]}\d]|true|false|null)(\s*\n\s*")')


def lenient_json(text: str) -> Any:
    """A sample that misses a comma between two members (a typo of the page), read; else None."""
    try:
        return json.loads(_MISSING_COMMA.sub(r"\1,\2", text))
    except ValueError:
        return None


def page_names() -> list[str]:
    """Every page: the seeds, then ``public/``, sorted."""
    root = docs_root()
    seeds = sorted(p.name for p in root.glob("*.txt"))
    public = sorted(f"public/{p.name}" for p in (root / "public").glob("*.md"))
    return seeds + public


def shape(value: Any, path: str = "$") -> dict[str, str]:
    """``{json path: JSON type}`` of every value a sample shows (a list by its elements' shapes)."""
    kinds = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    kind = kinds.get(type(value), "number" if isinstance(value, (int, float)) else type(value).__name__)
    found = {path: kind}
    if isinstance(value, dict):
        for key, item in value.items():
            found |= shape(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            found |= shape(item, f"{path}[]")
    return found
