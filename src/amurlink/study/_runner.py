"""The stage runner of ``amurlink run``: a registry of stages with declared inputs and outputs,
a run record, reruns of only what changed, child processes and a Dask cluster for heavy work.

A :class:`Stage` declares what it reads (files named by the study's ``[inputs]``, other
stages' results it needs or uses, the confirmed identity links of the joint package), what it
writes (files in the output folder) and where it runs (this process, a forked child, a
spawned interpreter). Its fingerprint is the hash of all of that plus the study settings and
the software versions; a stage whose fingerprint, outputs and state files match the run
record is not run again. Later issues add stages with :func:`register_stage`.
"""

from __future__ import annotations

import copyreg
import dataclasses
import datetime as _dt
import functools
import logging
import multiprocessing as mp
import multiprocessing.connection
import os
import pickle
import time
import types
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amurlink._version import __version__
from amurlink.config import CONFIG_FILENAME, SKIPPED_BY_CONFIG, StudyConfig, load_config
from amurlink.exceptions import ConfigError, DataError
from amurlink.study._proc import (
    LIBRARY_WARNING,
    Background,
    count_warnings,
    describe,
    library_notices,
    warning_text,
)
from amurlink.study._record import FileHasher, digest, read_record, write_record

__all__ = [
    "RunResult",
    "Stage",
    "StageContext",
    "Study",
    "register_stage",
    "registered_stages",
    "resolve_source",
    "run_study",
]

logger = logging.getLogger(__name__)

#: Folder of cached stage results inside the output folder.
CACHE_DIR = ".amurlink-run"


def _mappingproxy(data: dict[Any, Any]) -> types.MappingProxyType:
    return types.MappingProxyType(data)


def _reduce_mappingproxy(m: types.MappingProxyType) -> tuple[Any, ...]:
    return (_mappingproxy, (dict(m),))


# Frozen settings and results keep their mappings read-only (MappingProxyType), which pickle
# cannot store by itself: stage values are kept and sent to child processes and Dask workers.
copyreg.pickle(types.MappingProxyType, _reduce_mappingproxy)


# ==============================================================================================
# The study
# ==============================================================================================
def resolve_source(path: str | os.PathLike[str]) -> Path:
    """A record source as harmonise takes it: a folder holding one mapping TOML becomes it.

    A folder with ``datapackage.json`` stays a Camtrap DP package; a folder without one that
    holds exactly one ``*.toml`` (preferably ``*.mapping.toml``) is that mapping; anything
    else is returned unchanged (harmonise reports what it cannot read).

    Raises
    ------
    DataError
        If the folder holds several mapping TOMLs (it names them).
    """
    p = Path(path)
    if not p.is_dir() or (p / "datapackage.json").is_file():
        return p
    mappings = sorted(p.glob("*.mapping.toml")) or sorted(
        f for f in p.glob("*.toml") if f.name != CONFIG_FILENAME)
    if len(mappings) == 1:
        return mappings[0]
    if len(mappings) > 1:
        raise DataError(f"{p}: holds {len(mappings)} mapping files "
                        f"({', '.join(m.name for m in mappings)}); name the one to use "
                        "instead of the folder")
    return p


@dataclass
class Study:
    """A study folder: ``amurlink.toml`` (with ``[inputs]``) and the files it names.

    Parameters
    ----------
    folder : Path
        The study folder (holding ``amurlink.toml``).
    config : StudyConfig
    out_dir : Path
        Where the run writes: ``joint/``, ``report/<name>/``, ``run-record.json``.
    """

    folder: Path
    config: StudyConfig
    out_dir: Path

    @classmethod
    def open(cls, study: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None
             ) -> Study:
        """Read ``STUDY/amurlink.toml`` (or the TOML file given); output default STUDY/output."""
        p = Path(study)
        file = p if p.is_file() else p / CONFIG_FILENAME
        if not file.is_file():
            raise ConfigError(f"{p}: no {CONFIG_FILENAME} here; create a study folder with "
                              f"`amurlink init {p}` (docs/study.md)")
        config = load_config(file)
        folder = file.parent
        return cls(folder, config, Path(out_dir) if out_dir is not None else folder / "output")

    def __reduce__(self) -> tuple[Any, ...]:  # StudyConfig holds mapping proxies
        base = Path(self.config.source).parent if self.config.source is not None \
            else self.folder
        return (_study_from_dict, (self.folder, self.config.to_dict(), str(base),
                                   str(self.config.source) if self.config.source else None,
                                   self.out_dir))

    @property
    def joint_dir(self) -> Path:
        return self.out_dir / "joint"

    @property
    def report_dir(self) -> Path:
        return self.out_dir / "report"

    @property
    def cache_dir(self) -> Path:
        return self.out_dir / CACHE_DIR

    def path(self, name: str) -> Path:
        """A path of ``[inputs]`` resolved against the study folder."""
        return self.config.inputs.path(name)

    @property
    def border_file(self) -> Path | None:
        if self.config.inputs.border is not None:
            return self.path(self.config.inputs.border)
        return self.config.border.file

    @property
    def crosswalk(self) -> Path | None:
        cw = self.config.inputs.crosswalk
        return self.path(cw) if cw is not None else None

    def sources(self) -> list[tuple[str, Path]]:
        """``(dotted key:path as written, path)`` of every record source."""
        out = []
        for c in self.config.inputs.countries:
            for kind, name in c.sources:
                out.append((f"inputs.{c.code}.{kind}:{name}", self.path(name)))
        return out

    @property
    def is_simulation(self) -> bool:
        """True for a folder written by ``amurlink simulate`` (it has the truth)."""
        return (self.folder / "truth" / "links.csv").is_file()

    def truth(self) -> dict[str, Any]:
        """The simulator's ``summary.json`` (empty for a real study)."""
        import json

        f = self.folder / "summary.json"
        if not self.is_simulation or not f.is_file():
            return {}
        return json.loads(f.read_text(encoding="utf-8"))


def _study_from_dict(folder: Path, data: dict[str, Any], base: str, source: str | None,
                     out_dir: Path) -> Study:
    config = StudyConfig.from_dict(data, base_dir=base, source=source)
    return Study(folder, config, out_dir)


# ==============================================================================================
# Stages
# ==============================================================================================
@dataclass(frozen=True)
class Stage:
    """One step of a study run.

    Parameters
    ----------
    name : str
        Unique name (shown in the progress display and the run record).
    fn : callable
        ``fn(ctx: StageContext) -> value``. Raising marks the stage failed; a value that is a
        dict with a non-empty ``"problems"`` list marks it failed but keeps the value.
    what : str
        Progress text.
    needs : tuple of str
        Stages that must succeed first (if one fails, this one is skipped and says why).
    uses : tuple of str
        Stages whose results are used when they exist (run first; a failure is passed on as
        a missing part).
    files : callable, optional
        ``files(study) -> {dotted key: Path}``: the input files it reads (hashed).
    outputs : tuple of str
        Paths relative to the output folder that must exist for a cached result to count.
    state : tuple of str
        Files (relative to the output folder) the stage reads and writes, which people may
        change between runs (the link log): a change reruns the stage.
    links : bool
        Depends on the confirmed identity links of the joint package.
    where : {"main", "fork", "spawn"}
        This process, a forked child (shares memory) or a fresh interpreter.
    heavy : bool
        Runs on the Dask cluster when ``--scheduler`` is given.
    version : str
        Bump to invalidate earlier results.
    applies : callable, optional
        ``applies(study) -> None`` when the stage runs, else the reason it does not.
    cache : bool
        Keep the value for later runs (pickled in the output folder's ``.amurlink-run``).
    load : callable, optional
        ``load(ctx) -> value`` of a cached stage (default: the pickle).
    summarise : callable, optional
        ``summarise(value) -> dict``: JSON for the run record and the closing summary.
    """

    name: str
    fn: Callable[[StageContext], Any]
    what: str = ""
    needs: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    files: Callable[[Study], Mapping[str, Path]] | None = None
    outputs: tuple[str, ...] = ()
    state: tuple[str, ...] = ()
    links: bool = False
    where: str = "main"
    heavy: bool = False
    version: str = "1"
    applies: Callable[[Study], str | None] | None = None
    cache: bool = True
    load: Callable[[StageContext], Any] | None = None
    summarise: Callable[[Any], dict[str, Any]] | None = None


_REGISTRY: list[Stage | Callable[[Study], list[Stage]]] = []


def register_stage(stage: Stage | Callable[[Study], list[Stage]]) -> Any:
    """Add a stage (or a factory ``f(study) -> [Stage]``) to every study run; returns it.

    Stages run in dependency order; registration order breaks ties.
    """
    _REGISTRY.append(stage)
    return stage


def registered_stages(study: Study) -> list[Stage]:
    """The stages of a run of ``study``, in registration order."""
    import amurlink.study.stages  # noqa: F401 - registers the built-in stages

    out: list[Stage] = []
    for item in _REGISTRY:
        out.extend([item] if isinstance(item, Stage) else item(study))
    names = [s.name for s in out]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"stage names must be unique; repeated: {sorted(dup)}")
    return out


class StageContext:
    """What a stage sees: the study, earlier results, the Dask client, a shared memo."""

    def __init__(self, study: Study, *, client: Any = None,
                 results: dict[str, Any] | None = None,
                 loaders: dict[str, Callable[[], Any]] | None = None,
                 status: dict[str, str] | None = None) -> None:
        self.study = study
        self.client = client
        self._results = results if results is not None else {}
        self._loaders = loaders if loaders is not None else {}
        self._status = status if status is not None else {}
        self.memo: dict[str, Any] = {}

    @property
    def config(self) -> StudyConfig:
        return self.study.config

    def has(self, name: str) -> bool:
        """True when stage ``name`` succeeded (now or in an earlier run)."""
        return self._status.get(name) in ("ok", "cached")

    def status(self, name: str) -> str | None:
        return self._status.get(name)

    def result(self, name: str, default: Any = None) -> Any:
        """The value of stage ``name`` (loaded from an earlier run when it was cached)."""
        if name in self._results:
            return self._results[name]
        if name in self._loaders and self.has(name):
            value = self._loaders.pop(name)()
            self._results[name] = value
            return value
        return default

    def __getstate__(self) -> dict[str, Any]:  # spawned children get no results or client
        return {"study": self.study, "client": None, "_results": {}, "_loaders": {},
                "_status": dict(self._status), "memo": {}}


# ==============================================================================================
# Result
# ==============================================================================================
@dataclass
class RunResult:
    """What a study run did.

    Attributes
    ----------
    study : Study
    stages : dict of str to str
        Per stage: ``ok``, ``cached`` (unchanged since the last run), ``failed: <why>`` or
        ``skipped: <why>``.
    timings : dict of str to float
        Seconds per stage that ran (children: their own run time).
    cpu : dict of str to float
        CPU seconds per stage that ran (a child's own; in this process, the process's, so
        work of its other threads while the stage ran counts too).
    background : list of str
        Stages that ran in a child process.
    summaries : dict of str to dict
        Each stage's summary (this run's, or the recorded one of a cached stage).
    values : dict of str to object
        Values of the stages that ran (and of cached ones a later stage loaded).
    warnings : list of str
    total_s : float
    record : Path
        The run record.
    """

    study: Study
    stages: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    background: list[str] = field(default_factory=list)
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    total_s: float = 0.0
    record: Path | None = None
    scheduler: str | None = None

    @property
    def failed(self) -> dict[str, str]:
        """Stages that failed or were skipped because a stage they need failed."""
        return {k: v for k, v in self.stages.items() if v.startswith(("failed", "skipped: needs"))}

    @property
    def ran(self) -> list[str]:
        """Stages that ran in this run (not cached)."""
        return [k for k, v in self.stages.items() if v == "ok" or v.startswith("failed")]


# ==============================================================================================
# Running
# ==============================================================================================
def _versions() -> dict[str, str]:
    from amurlink.harmonise import _versions as versions

    return versions()


def _pickle_path(study: Study, name: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
    return study.cache_dir / f"{safe}.pkl"


def _save_value(study: Study, name: str, value: Any) -> None:
    path = _pickle_path(study, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    try:
        with open(tmp, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except Exception as exc:  # noqa: BLE001 - a value that cannot be kept is recomputed
        tmp.unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        logger.debug("value of %s not kept: %s", name, exc)


def _load_value(study: Study, name: str) -> Any:
    with open(_pickle_path(study, name), "rb") as fh:
        return pickle.load(fh)  # noqa: S301 - our own cache file in the output folder


def _spawned(stage_name: str, ctx: StageContext) -> Any:
    """Run a stage in a spawned interpreter (looked up again by name)."""
    for st in registered_stages(ctx.study):
        if st.name == stage_name:
            return st.fn(ctx)
    raise KeyError(f"no stage {stage_name!r}")


def _topological(stages: list[Stage]) -> list[Stage]:
    by = {s.name: s for s in stages}
    done: list[Stage] = []
    seen: set[str] = set()

    def visit(s: Stage, path: tuple[str, ...]) -> None:
        if s.name in seen:
            return
        if s.name in path:
            raise ValueError(f"stage dependencies form a cycle: {' -> '.join(path + (s.name,))}")
        for d in (*s.needs, *s.uses):
            if d in by:
                visit(by[d], (*path, s.name))
        seen.add(s.name)
        done.append(s)

    for s in stages:
        visit(s, ())
    return done


class _Runner:
    def __init__(self, study: Study, stages: list[Stage], *, client: Any, parallel: bool,
                 force: bool, progress: Callable[[str, str], None]) -> None:
        self.study = study
        self.stages = _topological(stages)
        self.by = {s.name: s for s in self.stages}
        self.client = client
        self.fork = parallel and "fork" in mp.get_all_start_methods()
        self.force = force
        self.progress = progress
        self.old = read_record(study.out_dir)
        self.old_stages: dict[str, Any] = self.old.get("stages", {}) \
            if self.old.get("amurlink") == __version__ else {}
        self.hasher = FileHasher(self.old.get("files"))
        self.results: dict[str, Any] = {}
        self.loaders: dict[str, Callable[[], Any]] = {}
        self.status: dict[str, str] = {}
        self.entries: dict[str, dict[str, Any]] = {}
        self.digests: dict[str, str] = {}
        self.res = RunResult(study=study)
        self.ctx = StageContext(study, client=client, results=self.results,
                                loaders=self.loaders, status=self.status)
        self._versions: dict[str, str] | None = None
        self._links_digest: str | None = None
        cfg = study.config.to_dict()
        cfg.pop("inputs", None)
        cfg.pop("run", None)  # which stages run does not change what a stage computes
        self.config_digest = digest(cfg)
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="amurlink-hash")
        self.prefetch: dict[str, Any] = {}

    # -- fingerprints --------------------------------------------------------------------------
    def versions(self) -> dict[str, str]:
        if self._versions is None:
            self._versions = _versions()
        return self._versions

    def files_of(self, stage: Stage) -> dict[str, Path]:
        if stage.files is None:
            return {}
        return {k: Path(v) for k, v in stage.files(self.study).items()}

    def start_hashing(self) -> None:
        for s in self.stages:
            try:
                files = self.files_of(s)
            except Exception:  # noqa: BLE001 - reported when the stage runs
                continue
            for p in files.values():
                key = str(p)
                if key not in self.prefetch and p.exists():
                    self.prefetch[key] = self.pool.submit(self.hasher.path, p)

    def file_hash(self, p: Path) -> str:
        fut = self.prefetch.get(str(p))
        return fut.result() if fut is not None else self.hasher.path(p)

    def links_digest(self) -> str:
        """Digest of the confirmed identity links (this run's joint data or the one on disk)."""
        if self._links_digest is not None:
            return self._links_digest
        log = None
        joint = self.results.get("harmonise")
        f = self.study.joint_dir / "identity-links.csv"
        in_memory = isinstance(joint, Mapping) and joint.get("dataset") is not None
        if not in_memory:
            # the log on disk as the last run left it: its confirmed links are as recorded
            sha = self.hasher.path(f)
            old = self.old.get("links") or {}
            if old.get("file") == sha and old.get("digest"):
                self._links_digest = str(old["digest"])
                return self._links_digest
        import pandas as pd

        from amurlink.identify.links import current_links

        if in_memory:
            log = joint["dataset"].get("identityLinks")
        else:
            if f.is_file():
                from amurlink.identify._links_core import check_links

                log = check_links(pd.read_csv(f, dtype=str, keep_default_na=False,
                                              na_values=[""]), name=str(f))
        pairs: list[list[str]] = []
        if log is not None and len(log):
            cur = current_links(log, status="confirmed",
                                two_party=self.study.config.links.two_party)
            pairs = sorted([sorted([str(a), str(b)]) for a, b in
                            zip(cur["subjectA"], cur["subjectB"], strict=True)])
        self._links_digest = digest(pairs)
        return self._links_digest

    def fingerprint(self, stage: Stage) -> tuple[str, dict[str, str]]:
        files = self.files_of(stage)
        missing = [f"`{k}` = {p}" for k, p in files.items() if not p.exists()]
        if missing:
            raise DataError(f"input file(s) not found: {'; '.join(missing)}; fix the path in "
                            f"{CONFIG_FILENAME} [inputs] or add the file")
        hashes = {k: self.file_hash(p) for k, p in files.items()}
        parts = {"stage": stage.name, "version": stage.version, "amurlink": __version__,
                 "config": self.config_digest, "inputs": hashes,
                 "deps": {d: self.digests.get(d, self.status.get(d, "absent"))
                          for d in (*stage.needs, *stage.uses)}}
        if stage.links:
            parts["links"] = self.links_digest()
        return digest(parts), hashes

    def state_hashes(self, stage: Stage) -> dict[str, str]:
        return {s: self.hasher.path(self.study.out_dir / s) for s in stage.state}

    # -- one stage -------------------------------------------------------------------------
    def prepare(self, stage: Stage) -> str | None:
        """Decide: returns None when the stage must run, else its final status."""
        if stage.name in self.study.config.run.skip:
            return SKIPPED_BY_CONFIG
        if stage.applies is not None:
            why = stage.applies(self.study)
            if why:
                return f"skipped: {why}"
        for d in stage.needs:
            st = self.status.get(d, "absent")
            if st == SKIPPED_BY_CONFIG or st.startswith(f"{SKIPPED_BY_CONFIG} ("):
                # left out on purpose: so is this stage (not a failure)
                return f"{SKIPPED_BY_CONFIG} (needs {d})"
            if st not in ("ok", "cached"):
                return f"skipped: needs {d} ({st.split(':')[0]})"
        try:
            fp, hashes = self.fingerprint(stage)
        except Exception as exc:  # noqa: BLE001 - a missing input fails this stage only
            return f"failed: {describe(exc)}"
        self.entries[stage.name] = {"fingerprint": fp, "inputs": hashes}
        prev = self.old_stages.get(stage.name)
        if (not self.force and prev and prev.get("status") in ("ok", "cached")
                and prev.get("fingerprint") == fp
                and all((self.study.out_dir / o).exists() for o in stage.outputs)
                and (not stage.cache or stage.load is not None
                     or _pickle_path(self.study, stage.name).is_file())
                and prev.get("state", {}) == self.state_hashes(stage)):
            self.digests[stage.name] = prev.get("digest", fp)
            self.res.summaries[stage.name] = prev.get("summary") or {}
            self.entries[stage.name] = dict(prev)
            if stage.load is not None:
                self.loaders[stage.name] = functools.partial(stage.load, self.ctx)
            elif stage.cache:
                self.loaders[stage.name] = functools.partial(_load_value, self.study,
                                                             stage.name)
            return "cached"
        return None

    def finish(self, stage: Stage, value: Any, error: str | None, seconds: float,
               started: str, caught: list[str], cpu: float | None = None) -> None:
        # each warning says where it arose: "secr: Panthera pardus RU: mask buffer ..."
        self.res.warnings.extend(f"{stage.name}: {w}" for w in caught)
        self.res.timings[stage.name] = seconds
        if cpu is not None:
            self.res.cpu[stage.name] = cpu
        entry = self.entries.setdefault(stage.name, {})
        if error is None and isinstance(value, Mapping) and value.get("problems"):
            error = "; ".join(map(str, value["problems"]))[:300]
            keep = True
        else:
            keep = error is None
        status = "ok" if error is None else f"failed: {error}"
        if keep:
            self.results[stage.name] = value
            self.res.values[stage.name] = value
            if stage.summarise is not None:
                try:
                    self.res.summaries[stage.name] = stage.summarise(value)
                except Exception as exc:  # noqa: BLE001
                    logger.debug("summary of %s failed: %s", stage.name, exc)
            if stage.cache and error is None:
                _save_value(self.study, stage.name, value)
        state = self.state_hashes(stage)
        fp = entry.get("fingerprint", "")
        self.digests[stage.name] = digest([fp, state]) if state else fp
        if cpu is not None:
            entry["cpu_s"] = round(cpu, 3)
        entry.update({"status": status, "started": started, "seconds": round(seconds, 3),
                      "versions": self.versions(), "outputs": list(stage.outputs),
                      "state": state, "digest": self.digests[stage.name],
                      "summary": self.res.summaries.get(stage.name, {}),
                      "where": ("cluster" if stage.heavy and self.client is not None
                                else stage.where)})
        self.status[stage.name] = status
        self.res.stages[stage.name] = status
        self.progress(stage.name, status)

    def call_inline(self, stage: Stage) -> None:
        started = _dt.datetime.now(_dt.UTC).isoformat()
        self.progress(stage.name, "running")
        t0, c0 = time.perf_counter(), time.process_time()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                value, error = stage.fn(self.ctx), None
            except Exception as exc:  # noqa: BLE001 - a failed stage is reported, not fatal
                logger.debug("stage %s failed", stage.name, exc_info=True)
                value, error = None, describe(exc)
        self.finish(stage, value, error, time.perf_counter() - t0, started,
                    [warning_text(w) for w in caught], cpu=time.process_time() - c0)

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> RunResult:
        t_all = time.perf_counter()
        self.study.out_dir.mkdir(parents=True, exist_ok=True)
        self.start_hashing()
        pending = [s.name for s in self.stages]
        jobs: dict[str, tuple[Background, str]] = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                while pending or jobs:
                    progressed = False
                    main_ready: list[Stage] = []
                    for name in list(pending):
                        stage = self.by[name]
                        deps = [d for d in (*stage.needs, *stage.uses) if d in self.by]
                        if any(d not in self.status for d in deps):
                            continue
                        pending.remove(name)
                        progressed = True
                        decided = self.prepare(stage)
                        if decided is not None:
                            self.status[name] = decided
                            self.res.stages[name] = decided
                            if decided.startswith("failed"):
                                self.entries.setdefault(name, {})["status"] = decided
                            self.progress(name, decided)
                            continue
                        child = stage.where in ("fork", "spawn") and not (
                            stage.heavy and self.client is not None)
                        if child and self.fork:
                            self.progress(name, "running")
                            started = _dt.datetime.now(_dt.UTC).isoformat()
                            if stage.where == "spawn":
                                fn = functools.partial(_spawned, name, self.ctx)
                            else:
                                fn = functools.partial(stage.fn, self.ctx)
                            jobs[name] = (Background(name, fn, fork=True, start=stage.where),
                                          started)
                        else:
                            main_ready.append(stage)
                    if main_ready:
                        pending[0:0] = [stage.name for stage in main_ready[1:]]
                        self.call_inline(main_ready[0])
                        continue
                    done = [n for n, (j, _) in jobs.items() if j.ready()]
                    if not done and jobs and not progressed:
                        conns = [j.connection for j, _ in jobs.values()
                                 if j.connection is not None]
                        if conns:
                            multiprocessing.connection.wait(conns, timeout=1.0)
                        done = [n for n, (j, _) in jobs.items() if j.ready()]
                    for name in done:
                        job, started = jobs.pop(name)
                        forked = job.forked
                        value, error, seconds, warns = job.result()
                        if forked:
                            self.res.background.append(name)
                        self.finish(self.by[name], value, error, seconds, started, warns,
                                    cpu=job.cpu)
                    if not progressed and not done and not jobs and pending:
                        for name in pending:  # unreachable dependencies
                            self.status[name] = self.res.stages[name] = \
                                "skipped: a stage it needs is not in this run"
                        pending = []
            finally:
                for job, _ in jobs.values():
                    job.result(timeout=1.0)
                self.pool.shutdown(wait=True)
                texts = [warning_text(w) for w in caught] + self.res.warnings
                self.library_notices = library_notices(texts)
                self.res.warnings = count_warnings(texts)
        self.res.total_s = time.perf_counter() - t_all
        self.res.stages = {s.name: self.status[s.name] for s in self.stages
                           if s.name in self.status}
        record = {
            "amurlink": __version__,
            "study": self.study.folder.name,
            "finished": _dt.datetime.now(_dt.UTC).isoformat(),
            "total_s": round(self.res.total_s, 3),
            "scheduler": self.res.scheduler,
            "stages": {**{n: e for n, e in self.old_stages.items()
                          if n not in self.res.stages},
                       **{n: {**self.entries.get(n, {}), "status": self.status[n]}
                          for n in self.res.stages}},
            "files": self.hasher.cache,
            "warnings": [w for w in self.res.warnings if LIBRARY_WARNING not in w],
            "library_notices": getattr(self, "library_notices", []),
        }
        if self._links_digest is not None:
            # proposals appended in this run change the file, not its confirmed links
            record["links"] = {"file": self.hasher.path(self.study.joint_dir /
                                                         "identity-links.csv"),
                               "digest": self._links_digest}
        elif self.old.get("links"):
            record["links"] = self.old["links"]

        self.res.record = write_record(self.study.out_dir, record)
        return self.res


class _ReadBudget:
    """The run reads packages it wrote itself (the joint package, through the link store):
    unless ``AMURLINK_READ_BUDGET`` is set, their read budget is half the machine's memory
    (at least the library's default), set for the run and its child processes."""

    KEY = "AMURLINK_READ_BUDGET"

    def __enter__(self) -> None:
        self.before = os.environ.get(self.KEY)
        if self.before is None:
            try:
                half = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
            except (ValueError, OSError, AttributeError):
                half = 0
            from amurlink.io._source import DEFAULT_BUDGET_BYTES

            os.environ[self.KEY] = str(max(int(half), DEFAULT_BUDGET_BYTES))

    def __exit__(self, *exc: Any) -> None:
        if self.before is None:
            os.environ.pop(self.KEY, None)


def _check_skip(study: Study, names: list[str]) -> None:
    """Every ``[run] skip`` name is a stage of this run (else a ConfigError naming it)."""
    import difflib

    for name in study.config.run.skip:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            where = study.config.source or study.folder / CONFIG_FILENAME
            raise ConfigError(f"{where}: `run.skip` names {name!r}, which is not a stage; "
                              f"{hint}the stages are {', '.join(names)}")


def run_study(
    study: str | os.PathLike[str] | Study,
    /,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    scheduler: str | Any | None = None,
    parallel: bool = True,
    force: bool = False,
    only: tuple[str, ...] | None = None,
    progress: Callable[[str, str], None] | None = None,
) -> RunResult:
    """Run a study: import, harmonise, link, analyse, report; never raises for a failed stage.

    Parameters
    ----------
    study : path_like or Study
        The study folder (with ``amurlink.toml`` and its ``[inputs]``), or the TOML file.
    out_dir : path_like, optional
        Output folder; default ``STUDY/output``.
    scheduler : str or dask.distributed.Client, optional
        Address of a Dask scheduler (``tcp://host:8786``): the heavy stages (photo
        features, SECR fits) run on its workers (:mod:`amurlink.parallel`).
    parallel : bool, default True
        Run independent stages in child processes where the platform can fork.
    force : bool, default False
        Run every stage even when nothing changed.
    only : tuple of str, optional
        Run only these stages and those they need.
    progress : callable, optional
        ``progress(stage, status)`` with status ``running``, ``ok``, ``cached``,
        ``failed: ...`` or ``skipped: ...``.

    Returns
    -------
    RunResult

    Raises
    ------
    ConfigError
        When the study folder or its ``amurlink.toml`` cannot be read.
    """
    st = study if isinstance(study, Study) else Study.open(study, out_dir)
    if out_dir is not None and isinstance(study, Study):
        st = dataclasses.replace(st, out_dir=Path(out_dir))
    stages = registered_stages(st)
    _check_skip(st, [s.name for s in stages])
    if only:
        keep: set[str] = set()
        by = {s.name: s for s in stages}
        todo = [n for n in only if n in by]
        unknown = [n for n in only if n not in by]
        if unknown:
            raise ConfigError(f"no stage {unknown[0]!r}; stages are {', '.join(by)}")
        while todo:
            n = todo.pop()
            if n not in keep:
                keep.add(n)
                todo.extend(d for d in (*by[n].needs, *by[n].uses) if d in by)
        stages = [s for s in stages if s.name in keep]
    client = None
    own_client = False
    address = None
    if scheduler is not None:
        if isinstance(scheduler, str):
            from amurlink.parallel import connect

            client = connect(scheduler)
            own_client = True
            address = scheduler
        else:
            client = scheduler
            address = getattr(getattr(client, "scheduler", None), "address", None) or \
                str(client)
    try:
        runner = _Runner(st, stages, client=client, parallel=parallel, force=force,
                         progress=progress or (lambda _n, _s: None))
        runner.res.scheduler = address
        with _ReadBudget():
            return runner.run()
    finally:
        if own_client and client is not None:
            client.close()
