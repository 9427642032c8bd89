"""Field descriptions from Google-style docstrings (`Args:` / `Attributes:` sections).

Users document models in the class docstring as often as with `Field(description=...)`; the API
only sees what lands in the schema, so both become property descriptions.
"""

from __future__ import annotations

import inspect
import re

_SECTION = re.compile(r"^(Args|Arguments|Attributes|Parameters|Fields|Properties):\s*$")
_ENTRY = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?:\([^)]*\))?\s*:\s*(?P<text>.*)$")


def split_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a docstring into its prose (sections removed) and a `{field: description}` map.

    Entries look like `name (type): text` or `name: text`; lines indented deeper than an entry
    continue it. Any line back at the heading's indentation (another `Heading:`, or prose) ends
    the section and is kept as prose.
    """
    prose: list[str] = []
    fields: dict[str, str] = {}
    lines = doc.expandtabs().splitlines()
    in_section = False
    section_indent = 0
    entry_indent = -1
    current: str | None = None
    for line in lines:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if _SECTION.match(stripped):
            in_section, section_indent, entry_indent, current = True, indent, -1, None
            continue
        if in_section:
            if not stripped:
                continue
            if indent <= section_indent:  # entries are indented under their heading
                in_section, current = False, None
            else:
                m = _ENTRY.match(stripped)
                if m and (entry_indent < 0 or indent <= entry_indent):
                    entry_indent = indent
                    current = m.group("name")
                    fields[current] = m.group("text").strip()
                    continue
                if current is not None:
                    fields[current] = (fields[current] + " " + stripped).strip()
                    continue
        prose.append(line)
    text = inspect.cleandoc("\n".join(prose))
    return re.sub(r"\n{3,}", "\n\n", text), fields
