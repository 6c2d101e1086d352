"""The pieces every rltnet HTML page is made of: page, section, figure, table, inline SVG.

Pages are single files that open offline: plots are matplotlib figures saved as
inline SVG (no date in them, so the same data gives the same bytes), figures carry
a caption that is also their accessible name, tables have column headers.
"""

from __future__ import annotations

import html
import io
from typing import Any

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 96rem; color: #1d1d1d;
       line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.6rem; text-align: left; }
th { background: #eef3f3; }
figure { margin: 0; overflow-x: auto; } figcaption { font-size: 0.9rem; color: #444; }
svg { max-width: 100%; height: auto; }
ul.legend { list-style: none; padding: 0; display: flex; gap: 1.5rem; flex-wrap: wrap; }
.swatch { display: inline-block; width: 1.2em; height: 0.9em; border: 2px solid;
          margin-right: 0.4em; vertical-align: middle; }
"""


def page(title: str, body: str, style: str = "") -> str:
    """A whole HTML page: `title` is escaped here, `body` is HTML already."""
    escaped = html.escape(title)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escaped}</title>\n<style>{_STYLE}{style}</style>\n</head>\n<body>\n"
        f"<h1>{escaped}</h1>\n{body}\n</body>\n</html>\n"
    )


def section(title: str, body: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2>\n{body}\n</section>"


def figure(svg: str, caption: str) -> str:
    return (
        f'<figure role="img" aria-label="{html.escape(caption)}">{svg}'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def table(header: list[str], rows: list[list[object]]) -> str:
    head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def svg_of(chart: Any) -> str:
    """A matplotlib figure as an inline <svg> element, without a date in it."""
    buffer = io.StringIO()
    chart.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]
