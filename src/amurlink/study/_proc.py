"""Child processes for the stages of a study run (fork shares memory; spawn is a fresh
interpreter, for OpenCV / OpenMP work that is not fork-safe)."""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import pickle
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["Background", "count_warnings", "describe", "warning_text"]

logger = logging.getLogger(__name__)


def describe(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {msg[0] if msg else ''}"[:300]


class Background:
    """``fn()`` in a child process (or inline where fork is unavailable).

    ``start="fork"`` (default) shares the parent's memory; ``start="spawn"`` starts a fresh
    interpreter (``fn`` must then be picklable, e.g. a ``functools.partial`` of a module-level
    function) for work whose native libraries are not fork-safe once the parent has used
    their thread pools (OpenCV, OpenMP in faiss: a forked child can block forever in them).
    """

    def __init__(self, name: str, fn: Callable[[], Any], *, fork: bool,
                 start: str = "fork") -> None:
        self.name = name
        self._value: Any = None
        self._error: str | None = None
        self._seconds = 0.0
        self._warnings: list[str] = []
        self._proc: Any = None
        self._conn: Any = None
        if fork:
            try:
                ctx = mp.get_context(start)
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_child, args=(fn, send), name=f"amurlink-run-{name}",
                                   daemon=True)
                proc.start()
                send.close()
                self._proc, self._conn = proc, recv
                return
            except (ValueError, OSError) as exc:  # fork unavailable: run inline
                logger.debug("cannot fork for %s (%s); running inline", name, exc)
        self._value, self._error, self._seconds, self._warnings = _call(fn)

    @property
    def forked(self) -> bool:
        return self._proc is not None

    @property
    def connection(self) -> Any:
        """The pipe the child answers on (None when it ran inline or has answered)."""
        return self._conn if self._proc is not None else None

    def ready(self) -> bool:
        """True when ``result()`` would not wait."""
        return self._proc is None or bool(self._conn.poll(0))

    def result(self, timeout: float = 900.0) -> tuple[Any, str | None, float, list[str]]:
        """``(value, error or None, seconds, warnings)``; waits for the child."""
        if self._proc is not None:
            try:
                if self._conn.poll(timeout):
                    payload = self._conn.recv_bytes()
                    self._value, self._error, self._seconds, self._warnings = pickle.loads(
                        payload)
                else:
                    self._error = f"TimeoutError: no result after {timeout:.0f} s"
            except (EOFError, OSError) as exc:
                self._error = f"child process ended without a result ({type(exc).__name__})"
            finally:
                self._proc.join(timeout=10)
                if self._proc.is_alive():
                    self._proc.terminate()
                    self._proc.join(timeout=5)
                elif self._proc.exitcode not in (0, None) and self._error is None \
                        and self._value is None:
                    self._error = f"child process exited with code {self._proc.exitcode}"
                self._conn.close()
                self._proc = None
        return self._value, self._error, self._seconds, self._warnings


def _call(fn: Callable[[], Any]) -> tuple[Any, str | None, float, list[str]]:
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value, error = fn(), None
        except Exception as exc:  # noqa: BLE001 - reported by the parent
            logger.debug("background stage failed", exc_info=True)
            value, error = None, describe(exc)
    return value, error, time.perf_counter() - t0, [warning_text(w) for w in caught]


def _child(fn: Callable[[], Any], conn: Any) -> None:  # pragma: no cover - runs in a fork
    try:
        out = _call(fn)
        try:
            payload = pickle.dumps(out)
        except Exception as exc:  # noqa: BLE001
            payload = pickle.dumps((None, f"result not picklable: {describe(exc)}", out[2],
                                    out[3]))
        conn.send_bytes(payload)
    except Exception:  # noqa: BLE001
        traceback.print_exc()
    finally:
        conn.close()
        os._exit(0)


def warning_text(w: warnings.WarningMessage) -> str:
    first = str(w.message).strip().splitlines()
    return f"{w.category.__name__}: {first[0] if first else ''}"[:240]


def count_warnings(texts: list[str]) -> list[str]:
    counts: dict[str, int] = {}
    for t in texts:
        counts[t] = counts.get(t, 0) + 1
    return [f"{t} (x{n})" if n > 1 else t for t, n in counts.items()]
