"""A small Markdown → HTML converter for the report's own subset (headings, tables, images, lists, text).

With ``images``, the folder the Markdown's images are in, each image is embedded as a ``data:`` URI, so the
page stands alone (it can be mailed); the Markdown keeps its relative links.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

_IMG = re.compile(r"!\[([^\]]*)\]\(([^)]+)\)")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")
_CODE = re.compile(r"`([^`]+)`")

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}"
    "th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}img{max-width:100%}"
    "code{background:#f4f4f4;padding:1px 4px}"
)


def _source(name: str, images: Path | None) -> str:
    """``name`` as an ``<img>`` source: a ``data:`` URI of the file in ``images`` when there is one."""
    path = images / name if images is not None else None
    if path is None or not path.is_file():
        return name
    kind = "svg+xml" if path.suffix == ".svg" else path.suffix.lstrip(".").lower()
    return f"data:image/{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline(text: str, images: Path | None = None) -> str:
    out = html.escape(text, quote=False)
    out = _IMG.sub(lambda m: f'<img alt="{m.group(1)}" src="{_source(m.group(2), images)}">', out)
    out = _BOLD.sub(r"<b>\1</b>", out)
    return _CODE.sub(r"<code>\1</code>", out)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def markdown_to_html(markdown: str, title: str, images: Path | None = None) -> str:
    """Render the report's Markdown as a standalone HTML page (images embedded from the folder ``images``)."""
    body: list[str] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{_inline(line[level:].strip())}</h{level}>")
        elif line.startswith("|") and i + 1 < len(lines) and set(lines[i + 1].replace("|", "").strip()) <= {"-", ":"}:
            header = "".join(f"<th>{_inline(c)}</th>" for c in _cells(line))
            rows, i = [], i + 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in _cells(lines[i])) + "</tr>")
                i += 1
            body.append(f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
            continue
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{_inline(lines[i][2:])}</li>")
                i += 1
            body.append(f"<ul>{''.join(items)}</ul>")
            continue
        elif line.strip():
            body.append(f"<p>{_inline(line, images)}</p>")
        i += 1
    head = f"<meta charset='utf-8'><title>{html.escape(title)}</title><style>{STYLE}</style>"
    return f"<!doctype html><html><head>{head}</head><body>{''.join(body)}</body></html>\n"
