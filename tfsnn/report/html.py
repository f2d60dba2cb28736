"""Tables as HTML, and the captions of tables and figures, for the Snakemake report.

Snakemake's report shows an HTML result inline (a CSV only as a download), so each table is also written
as ``<name>.html``; a result's caption (its "Description") is the target's declared caption, the preset
and, for a table, its notes, which say what each cell is.
"""
from __future__ import annotations

from html import escape
from pathlib import Path

STYLE = ("body{font-family:sans-serif;font-size:14px;margin:1em}"
         "table{border-collapse:collapse}th,td{border:1px solid #bbb;padding:3px 8px;text-align:left}"
         "th{background:#eee}ul.notes{font-size:13px;color:#333}")


def _notes_html(notes: list[str]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{escape(n).replace(chr(10), '<br>')}</li>" for n in notes)
    return f'<ul class="notes">{items}</ul>'


def table_html(title: str, preset: str, columns: list[str], rows: list[list[str]], notes: list[str]) -> str:
    """A standalone HTML page: the title, the table as the CSV shows it, the notes under it."""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{STYLE}</style></head>\n<body>\n"
            f"<p><b>{escape(title)}</b> (preset: {escape(preset)})</p>\n"
            f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>{body}</tbody>\n</table>\n"
            f"{_notes_html(notes)}\n</body></html>\n")


def report_caption(caption: str, preset: str, markdown: str | Path | None = None) -> str:
    """A table's or figure's caption in the report, as one line of HTML: the declared caption, the preset
    and the notes of the table's Markdown file ``markdown`` (what each cell is) if it is built."""
    from . import _notes

    out = f"<p><b>{escape(caption)}</b> (regenerated at the preset &quot;{escape(preset)}&quot;)</p>"
    path = Path(markdown) if markdown else None
    if path is not None and path.is_file():
        notes = _notes(path.read_text())
        if notes:
            out += "<p>What the cells are:</p>" + _notes_html(notes)
    return out
