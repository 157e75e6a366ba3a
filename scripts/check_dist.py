"""What the package index shows, checked on the built wheel: `make dist-check` runs it after twine.

The wheel must carry the Apache-2.0 LICENSE, Project-URLs and a classifier per supported Python,
and every link of the README it publishes must be absolute (a relative one is broken there).
"""

from __future__ import annotations

import re
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

PYTHONS = ("3.10", "3.11", "3.12", "3.13")
#: Markdown links and images, [text](target); a target is absolute with a scheme or a #fragment.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)[^)]*\)")


def problems(wheel: Path) -> list[str]:
    found: list[str] = []
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_name = next(name for name in names if name.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
        licenses = [name for name in names if ".dist-info/" in name and Path(name).name.startswith("LICENSE")]
        if not licenses:
            found.append("no LICENSE file in the wheel's .dist-info")
        elif b"Apache License" not in archive.read(licenses[0]):
            found.append(f"{licenses[0]} is not the Apache License text")
    urls = metadata.get_all("Project-URL") or []
    if not any(url.lower().startswith(("source", "homepage")) for url in urls):
        found.append(f"no Source or Homepage Project-URL (got {urls})")
    classifiers = set(metadata.get_all("Classifier") or [])
    found += [
        f"no classifier for Python {version}"
        for version in PYTHONS
        if f"Programming Language :: Python :: {version}" not in classifiers
    ]
    if not any(c.startswith("Development Status ::") for c in classifiers):
        found.append("no Development Status classifier")
    readme = metadata.get_payload()
    found += [
        f"relative link in the published README: {target}"
        for target in LINK.findall(readme)
        if not re.match(r"^([a-z][a-z0-9+.-]*:|#)", target)
    ]
    return found


def main(dist: str) -> int:
    (wheel,) = Path(dist).glob("*.whl")
    found = problems(wheel)
    for problem in found:
        print(f"{wheel.name}: {problem}", file=sys.stderr)
    if not found:
        print(f"{wheel.name}: LICENSE, Project-URLs, classifiers and README links are as published.")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
