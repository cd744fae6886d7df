"""Named sections of BENCHMARKS.md that other commands write beside ``hopscreen bench``.

Long benchmark runs (``hopscreen reproduce``, ``hopscreen al replay``) each own one section,
delimited by HTML comments, so that re-running one of them replaces only its own figures and
``hopscreen bench`` keeps them when it rewrites the rest of the file.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from hopscreen.benchmarks.machine import machine_description

_BLOCK = re.compile(
    r"<!-- section:(?P<name>[a-z0-9_-]+) -->\n.*?<!-- /section:(?P=name) -->\n", re.DOTALL
)


def _wrap(name: str, markdown: str) -> str:
    return f"<!-- section:{name} -->\n{markdown.rstrip()}\n<!-- /section:{name} -->\n"


def machine_line() -> str:
    """One line naming this machine, for a section's header."""
    m = machine_description()
    return (
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, torch {m['torch']} "
        f"({m['torch_threads']} threads), GPU: {m['cuda'] or 'none'}; "
        f"written {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}."
    )


def update_section(path: Path | str, name: str, markdown: str) -> None:
    """Write ``markdown`` as section ``name`` of ``path`` (replaced if present, else appended)."""
    if not re.fullmatch(r"[a-z0-9_-]+", name):
        raise ValueError(f"section names are lower-case words, got {name!r}")
    path = Path(path)
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = _wrap(name, markdown)
    for match in _BLOCK.finditer(text):
        if match.group("name") == name:
            text = text[: match.start()] + block + text[match.end() :]
            break
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text)


def sections(path: Path | str) -> dict[str, str]:
    """The named sections of ``path`` (name → the whole delimited block), in file order."""
    path = Path(path)
    if not path.exists():
        return {}
    return {m.group("name"): m.group(0) for m in _BLOCK.finditer(path.read_text())}
