"""Validation results: typed ``Issue`` records gathered in a ``ValidationReport``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from amurlink.exceptions import SchemaError

__all__ = ["Issue", "ValidationReport", "Severity"]

Severity = Literal["error", "warning"]
#: At most this many issues of one code are kept in a report; the rest are only counted
#: (``ValidationReport.suppressed``), so that a hostile file cannot fill memory with issues.
MAX_ISSUES_PER_CODE = 1000


@dataclass(frozen=True)
class Issue:
    """One problem found in a data package.

    Parameters
    ----------
    code : str
        Stable slug naming the kind of problem (``type-error``, ``required``, ``enum``,
        ``foreign-key``, ``bad-csv``, ...). Documented in ``docs/validation.md``.
    severity : {"error", "warning"}
        Errors make the package invalid; warnings need attention but do not.
    message : str
        One sentence: what is wrong, where, expected against got, and how to fix it.
    file : str, optional
        File inside the package (``observations.csv``) or the package path itself.
    table : str, optional
        Resource name.
    row : int, optional
        Row number as frictionless counts it: the header is row 1, the first data row is 2.
    field : str, optional
        Column name.
    expected, got : str, optional
        What the value should be and what it is.
    fix : str, optional
        How to repair it.
    """

    code: str
    severity: Severity
    message: str
    file: str | None = None
    table: str | None = None
    row: int | None = None
    field: str | None = None
    expected: str | None = None
    got: str | None = None
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.row) if p is not None)
        col = f" [{self.field}]" if self.field else ""
        return f"{self.severity.upper()} {self.code} {where}{col}: {self.message}"


@dataclass
class ValidationReport:
    """Everything validation found, in the order found.

    A report is a result, not an exception: call :meth:`raise_for_errors` when an invalid
    package should stop the caller.

    Attributes
    ----------
    source : str
        The package path the report is about.
    issues : list of Issue
    row_counts : dict of str to int
        Data rows read per table.
    suppressed : dict of str to int
        Issues not kept, per code, past ``MAX_ISSUES_PER_CODE`` of one code.
    """

    source: str = ""
    issues: list[Issue] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)
    suppressed: dict[str, int] = field(default_factory=dict)
    _per_code: Counter = field(default_factory=Counter, init=False, repr=False, compare=False)
    _suppressed_errors: int = field(default=0, init=False, repr=False, compare=False)

    # -- building -----------------------------------------------------------------------------
    def add(self, issue: Issue) -> None:
        if self._per_code[issue.code] >= MAX_ISSUES_PER_CODE:
            self.suppressed[issue.code] = self.suppressed.get(issue.code, 0) + 1
            if issue.severity == "error":
                self._suppressed_errors += 1  # counted: the verdict stays right
            return
        self._per_code[issue.code] += 1
        self.issues.append(issue)

    def extend(self, issues: Iterable[Issue]) -> None:
        for issue in issues:
            self.add(issue)

    def error(self, code: str, message: str, **where: Any) -> None:
        self.add(Issue(code, "error", message, **where))

    def warning(self, code: str, message: str, **where: Any) -> None:
        self.add(Issue(code, "warning", message, **where))

    # -- reading ------------------------------------------------------------------------------
    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def valid(self) -> bool:
        """True when no issue is an error (kept or suppressed)."""
        return not self._suppressed_errors and not self.errors

    def __iter__(self) -> Iterator[Issue]:
        return iter(self.issues)

    def __len__(self) -> int:
        return len(self.issues)

    def counts(self) -> dict[str, int]:
        """Number of issues per code."""
        return dict(Counter(i.code for i in self.issues))

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "valid": self.valid,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "row_counts": dict(self.row_counts),
            "suppressed": dict(self.suppressed),
            "issues": [i.to_dict() for i in self.issues],
        }

    def to_text(self, *, limit: int | None = 50) -> str:
        head = (
            f"{self.source}: {'valid' if self.valid else 'INVALID'} "
            f"({len(self.errors)} errors, {len(self.warnings)} warnings; "
            + ", ".join(f"{k} {v} rows" for k, v in self.row_counts.items())
            + ")"
        )
        shown = self.issues if limit is None else self.issues[:limit]
        lines = [head, *(f"  {i}" for i in shown)]
        if limit is not None and len(self.issues) > limit:
            lines.append(f"  ... and {len(self.issues) - limit} more (use --format json for all)")
        if self.suppressed:
            lines.append("  (not kept, past " + str(MAX_ISSUES_PER_CODE) + " of one kind: "
                         + ", ".join(f"{n} {c}" for c, n in self.suppressed.items()) + ")")
        return "\n".join(lines)

    def raise_for_errors(self) -> None:
        """Raise :class:`~amurlink.exceptions.SchemaError` if the report holds any error.

        Raises
        ------
        SchemaError
            With the first errors in the message and the whole report as ``.report``.
        """
        if self.valid:
            return
        errs = self.errors
        first = "\n".join(f"  {i}" for i in errs[:10])
        more = f"\n  ... and {len(errs) - 10} more" if len(errs) > 10 else ""
        exc = SchemaError(f"{self.source}: {len(errs)} validation error(s):\n{first}{more}")
        exc.report = self  # type: ignore[attr-defined]
        raise exc
