"""Report tables: a frame with translatable column labels, rendered to HTML and CSV."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["Summary"]

Gettext = Callable[[str], str]


def _cell(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, bool):
        return "✓" if value else "–"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 or value == round(value) else f"{value:.3g}"
    text = html.escape(str(value))
    if kind == "id":
        return f'<span class="id">{text}</span>'
    if kind == "latin":
        return f'<i class="latin">{text}</i>'
    return text


@dataclass
class Summary:
    """One table of the report.

    Parameters
    ----------
    name : str
        File stem of its CSV (``coverage`` -> ``coverage.csv``).
    frame : DataFrame
        The values; column names are the CSV header.
    labels : mapping of str to str or callable
        Column name to its (untranslated) heading msgid, or a function of gettext; columns
        not listed are not shown in HTML (they still go to the CSV).
    kinds : mapping of str to str
        Column name to ``id`` / ``latin`` (shown as data, not words) or ``text``.
    values : mapping of str to callable, optional
        Column name to a function turning a value into display text at render time (for
        translated vocabulary such as country names).
    """

    name: str
    frame: pd.DataFrame
    labels: Mapping[str, str]
    kinds: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Callable[[Any, Gettext], str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.frame.empty

    def to_html(self, _: Gettext) -> str:
        cols = [c for c in self.labels if c in self.frame.columns]
        head = "".join(f"<th>{html.escape(self.heading(c, _))}</th>" for c in cols)
        rows = []
        for rec in self.frame[cols].itertuples(index=False, name=None):
            cells = []
            for c, v in zip(cols, rec, strict=True):
                if c in self.values and v is not None:
                    text = html.escape(self.values[c](v, _))
                else:
                    text = _cell(v, self.kinds.get(c, "text"))
                num = isinstance(v, int | float) and not isinstance(v, bool)
                cells.append(f'<td class="num">{text}</td>' if num else f"<td>{text}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        return (f'<table class="data" data-name="{self.name}"><thead><tr>{head}</tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table>")

    def heading(self, column: str, _: Gettext) -> str:
        """The translated heading of ``column`` (a msgid, or a callable taking gettext)."""
        label = self.labels[column]
        return label(_) if callable(label) else _(label)

    def to_csv(self, path: Any) -> None:
        self.frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
