"""Start-up: build typer's per-parameter coercion only for a value that needs it.

typer 0.29 builds a pydantic ``TypeAdapter`` for every non-flag parameter of the running
command (and of the root callback) while it processes the parameter's value, even when that
value is ``None`` or a plain default. For a command with many options (``amurlink secr`` has
~25) importing pydantic and building the adapters was most of the start-up (0.35-0.4 s of
~0.6 s on the quiet machine). :func:`install` wraps ``typer.core.build_runtime_param`` so
that the real coercion is built on first need; until then:

* ``None`` gives what typer's own ``RuntimeParam.coerce`` gives for it (``()`` for a
  multi-value option, else ``None``) — that method never looks at the adapter for ``None``;
* a ``str`` value of an option annotated plain ``str`` (or ``str | None``) without choices is
  returned unchanged (pydantic's ``str`` validation returns it unchanged);
* an ``int`` (or ``float``) default of an option annotated ``int`` (``float``), optional or
  not, is returned as pydantic's lax validation returns it (the int unchanged; for ``float``,
  the float unchanged or the int as a float); strings typed by the user still go through
  typer's coercion and its messages;
* an ``Enum`` option's value goes through typer's own ``coerce_cli_choice`` (what the
  adapter calls); a value it rejects falls back to the real coercion and its error message.

Anything else builds and uses typer's coercion, so results and errors are the same.
Process-wide and idempotent; a typer without this layout is left alone.
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["install"]


def install() -> bool:
    """Wrap ``typer.core.build_runtime_param``; True when (already) installed."""
    try:
        import typer.core as tcore
        from typer._param_types import coerce_cli_choice
    except ImportError:  # pragma: no cover - another typer layout
        return False
    build = getattr(tcore, "build_runtime_param", None)
    if build is None:  # pragma: no cover
        return False
    if getattr(build, "_amurlink_lazy", False):
        return True

    class _LazyRuntimeParam:
        __slots__ = ("descriptor", "real")

        def __init__(self, descriptor: Any) -> None:
            self.descriptor = descriptor
            self.real: Any = None

        def _real(self) -> Any:
            if self.real is None:
                self.real = build(self.descriptor)
            return self.real

        def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
            if value is None:
                return () if (param.multiple or param.nargs == -1) else None
            d = self.descriptor
            ann = d.annotation
            if d.file_annotation is None and not (param.multiple or param.nargs != 1):
                if (ann is str or ann == (str | None)) and type(value) is str \
                        and d.choices is None:
                    return value
                if (ann is int or ann == (int | None)) and type(value) is int:
                    return value
                if ann is float or ann == (float | None):
                    if type(value) is float:
                        return value
                    if type(value) is int:
                        return float(value)
                if isinstance(ann, type) and issubclass(ann, enum.Enum):
                    try:
                        return coerce_cli_choice(value, choices=tuple(ann),
                                                 case_sensitive=d.parameter_info.case_sensitive,
                                                 ctx=ctx)
                    except ValueError:
                        pass  # the real coercion gives typer's message
            return self._real().coerce(value, param=param, ctx=ctx)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._real(), name)

    def lazy(descriptor: Any) -> Any:
        return _LazyRuntimeParam(descriptor)

    lazy._amurlink_lazy = True  # type: ignore[attr-defined]
    tcore.build_runtime_param = lazy
    return True
