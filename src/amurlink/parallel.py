"""Parallel maps over pure functions with Dask, and the same maps as serial loops without it.

This is the only module of amurlink that imports dask. Every helper takes the function and the
items, wraps each call with ``dask.delayed``, and calls ``compute`` once, on ``client`` when one
is given (a ``dask.distributed.Client``) or on dask's default scheduler otherwise. With
``client=None`` and ``scheduler="serial"`` (or when dask is not installed) the items run in a
plain loop, so results never depend on whether dask is present.

The functions must be pure (same inputs, same output) and picklable for process-based
clusters; randomness comes in through the items (for example child seeds from
``np.random.SeedSequence(seed).spawn(n)``), never from global state.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import numpy as np

__all__ = ["connect", "dask_available", "map_items", "map_replicates", "spawn_seeds"]

T = TypeVar("T")


def dask_available() -> bool:
    """True when ``dask`` can be imported."""
    return importlib.util.find_spec("dask") is not None


def connect(address: str, /, *, timeout: str = "10s") -> Any:
    """A ``dask.distributed.Client`` of the scheduler at ``address`` (``tcp://host:8786``).

    Raises
    ------
    amurlink.exceptions.ConfigError
        If ``dask.distributed`` is not installed or the scheduler cannot be reached (the
        message names the address and the fix).
    """
    from amurlink.exceptions import ConfigError

    try:
        from distributed import Client
    except ImportError:
        raise ConfigError("--scheduler needs dask.distributed; install the `dask` extra "
                          "(pip install 'amurlink[dask]')") from None
    try:
        return Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {address!r} ({exc}); start it "
                          "with `dask scheduler` and workers with `dask worker ADDRESS`, or "
                          "check the address") from None


def spawn_seeds(seed: int | np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child seeds of ``seed`` (``SeedSequence.spawn``)."""
    parent = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return list(parent.spawn(int(n)))


def map_items(
    fn: Callable[..., T],
    items: Iterable[Any],
    /,
    *,
    client: Any = None,
    scheduler: str | None = None,
    batch_size: int | None = None,
    **kwargs: Any,
) -> list[T]:
    """``[fn(item, **kwargs) for item in items]``, computed with Dask when available.

    Parameters
    ----------
    fn : callable
        Pure function of one item (plus the keyword arguments).
    items : iterable
        The items; the result keeps their order.
    client : dask.distributed.Client, optional
        Cluster to run on; default dask's local scheduler (threads).
    scheduler : {"threads", "processes", "synchronous", "serial"}, optional
        Local dask scheduler when ``client`` is None; ``"serial"`` skips dask entirely.
    batch_size : int, optional
        Items per dask task (fewer, larger tasks for cheap functions); default 1.
    **kwargs
        Passed to every call of ``fn``.

    Returns
    -------
    list
        One result per item, in order.
    """
    items = list(items)
    if not items:
        return []
    if scheduler == "serial" or (client is None and not dask_available()):
        return [fn(item, **kwargs) for item in items]
    import dask

    size = max(1, int(batch_size or 1))
    batches = [items[i:i + size] for i in range(0, len(items), size)]
    tasks = [dask.delayed(_run_batch)(fn, batch, kwargs) for batch in batches]
    if client is not None:
        futures = client.compute(tasks)
        results = client.gather(futures)
    else:
        results = dask.compute(*tasks, scheduler=scheduler or "threads")
    return [value for batch in results for value in batch]


def _run_batch(fn: Callable[..., T], batch: Sequence[Any], kwargs: dict[str, Any]) -> list[T]:
    return [fn(item, **kwargs) for item in batch]


def map_replicates(
    fn: Callable[..., T],
    seeds: int | Sequence[Any],
    /,
    *,
    seed: int | None = None,
    client: Any = None,
    scheduler: str | None = None,
    **kwargs: Any,
) -> list[T]:
    """Run ``fn(rng, **kwargs)`` once per replicate with independent generators.

    Parameters
    ----------
    fn : callable
        Pure function whose first argument is a ``numpy.random.Generator``.
    seeds : int or sequence
        Number of replicates (children of ``seed`` are spawned) or explicit seeds (ints or
        ``SeedSequence``), one per replicate.
    seed : int, optional
        Parent seed when ``seeds`` is a count.
    client, scheduler, **kwargs
        As in :func:`map_items`.

    Returns
    -------
    list
        One result per replicate, in order; equal to the serial loop.
    """
    if isinstance(seeds, int | np.integer):
        seq: list[Any] = spawn_seeds(0 if seed is None else seed, int(seeds))
    else:
        seq = list(seeds)
    return map_items(_with_generator, seq, client=client, scheduler=scheduler, fn=fn,
                     fn_kwargs=kwargs)


def _with_generator(item: Any, *, fn: Callable[..., T], fn_kwargs: dict[str, Any]) -> T:
    return fn(np.random.default_rng(item), **fn_kwargs)
