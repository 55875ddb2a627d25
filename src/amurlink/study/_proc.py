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

__all__ = ["LIBRARY_WARNING", "Background", "count_warnings", "describe", "library_notices",
           "warning_text"]

logger = logging.getLogger(__name__)


#: What a user does about an unexpected error (a fault of amurlink, not of the data).
_REPORT_IT = ("this is a fault in amurlink, not in your data: rerun with --serial and send "
              "the output and OUT/run-record.json to the developers")
#: Prefix of a warning text from a library amurlink uses (numpy, pandas, ...), not its own.
LIBRARY_WARNING = "library notice: "


def describe(exc: BaseException) -> str:
    """What went wrong and what to do, for the terminal, the report and the run record.

    No exception class names: amurlink's own errors (``AmurlinkError``) already say what
    happened and how to fix it; a file that cannot be read names the file; anything else is
    a fault of amurlink, and the text says so and what to send.
    """
    from amurlink.exceptions import AmurlinkError

    lines = str(exc).strip().splitlines()
    msg = lines[0].strip() if lines else ""
    if isinstance(exc, AmurlinkError):
        text = msg or "the step stopped without saying why; rerun with --serial to see more"
    elif isinstance(exc, MemoryError):
        text = ("ran out of memory; close other programs, or run the heavy stages on a "
                "cluster (--scheduler ADDRESS)")
    elif isinstance(exc, OSError):
        what = exc.strerror or msg or "the file could not be read or written"
        name = f": {exc.filename}" if exc.filename else ""
        text = f"{what}{name}; check that the path exists and that you may read and write it"
    else:
        text = f"unexpected error ({msg or 'no message'}); {_REPORT_IT}"
    return text[:400]


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
        self._cpu = 0.0
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
        self._value, self._error, self._seconds, self._warnings, self._cpu = _call(fn)

    @property
    def cpu(self) -> float:
        """CPU seconds the stage took (its child process's own, or this process's)."""
        return self._cpu

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
                    (self._value, self._error, self._seconds, self._warnings,
                     self._cpu) = pickle.loads(payload)
                else:
                    self._error = (f"no result after {timeout:.0f} s; the stage may be stuck: "
                                   "rerun with --serial to run it in this process")
            except (EOFError, OSError):
                self._error = ("the child process ended without a result (it may have run "
                               "out of memory); rerun with --serial to run it in this process")
            finally:
                self._proc.join(timeout=10)
                if self._proc.is_alive():
                    self._proc.terminate()
                    self._proc.join(timeout=5)
                elif self._proc.exitcode not in (0, None) and self._error is None \
                        and self._value is None:
                    self._error = (f"the child process stopped (exit code "
                                   f"{self._proc.exitcode}); rerun with --serial to run it in "
                                   "this process")
                self._conn.close()
                self._proc = None
        return self._value, self._error, self._seconds, self._warnings


def _call(fn: Callable[[], Any]) -> tuple[Any, str | None, float, list[str], float]:
    """``(value, error or None, wall seconds, warnings, CPU seconds of this process)``."""
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value, error = fn(), None
        except Exception as exc:  # noqa: BLE001 - reported by the parent
            logger.debug("background stage failed", exc_info=True)
            value, error = None, describe(exc)
    return (value, error, time.perf_counter() - t0, [warning_text(w) for w in caught],
            time.process_time() - c0)


def _child(fn: Callable[[], Any], conn: Any) -> None:  # pragma: no cover - runs in a fork
    try:
        out = _call(fn)
        try:
            payload = pickle.dumps(out)
        except Exception as exc:  # noqa: BLE001
            payload = pickle.dumps((None, f"result not picklable: {describe(exc)}", out[2],
                                    out[3], out[4]))
        conn.send_bytes(payload)
    except Exception:  # noqa: BLE001
        traceback.print_exc()
    finally:
        conn.close()
        os._exit(0)


#: What to do about amurlink's own warnings in a study run, where the message's advice
#: names a setting the run does not expose (by warning class).
_RUN_ADVICE = {
    "MaskBufferWarning": ("; `amurlink run` uses a fixed buffer per species: check the "
                          "estimate with `amurlink secr OUT/joint --species NAME --buffer KM`, "
                          "KM at least 3 x sigma"),
}


def warning_text(w: warnings.WarningMessage) -> str:
    """A warning as the terminal shows it: what happened and what to do, no class name.

    amurlink's own warnings (``AmurlinkWarning``) say both; a study run adds what to do
    where their advice names a setting the run does not take. Warnings of the libraries
    amurlink uses (numerical or deprecation notices) start with :data:`LIBRARY_WARNING`;
    :func:`count_warnings` gathers them into one line.
    """
    from amurlink.exceptions import AmurlinkWarning

    first = str(w.message).strip().splitlines()
    msg = first[0].strip() if first else ""
    if isinstance(w.category, type) and issubclass(w.category, AmurlinkWarning):
        return (msg + _RUN_ADVICE.get(w.category.__name__, ""))[:400]
    return (LIBRARY_WARNING + msg)[:300]


def count_warnings(texts: list[str]) -> list[str]:
    """amurlink's warnings, each once with its count; library notices as one closing line."""
    counts: dict[str, int] = {}
    library = 0
    for t in texts:
        if LIBRARY_WARNING in t:
            library += 1
            continue
        counts[t] = counts.get(t, 0) + 1
    out = [f"{t} (x{n})" if n > 1 else t for t, n in counts.items()]
    if library:
        out.append(f"{library} notice(s) from the libraries amurlink uses (numerical or "
                   "deprecation notices; they do not change the results shown): nothing to "
                   "do; OUT/run-record.json lists them under library_notices")
    return out


def library_notices(texts: list[str]) -> list[str]:
    """The library notices among ``texts``, each once (for the run record)."""
    return list(dict.fromkeys(t for t in texts if LIBRARY_WARNING in t))
