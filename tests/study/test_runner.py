"""The stage runner: run record, reruns of only what changed, failures, child processes."""

from __future__ import annotations

import json
import os
import time

import pandas as pd
import pytest

from amurlink.exceptions import DataError
from amurlink.study import Stage, Study, resolve_source
from amurlink.study._runner import _Runner
from amurlink.study.stages import carry_over_links, place_beside

CALLS: list[str] = []


def _study(tmp_path):
    (tmp_path / "amurlink.toml").write_text("[study]\nname = \"runner test\"\n",
                                            encoding="utf-8")
    for name, text in (("a.txt", "1"), ("c.txt", "ok")):
        (tmp_path / name).write_text(text, encoding="utf-8")
    return Study.open(tmp_path)


def _read(ctx, name):
    return (ctx.study.folder / name).read_text(encoding="utf-8")


def _a(ctx):
    CALLS.append("A")
    return int(_read(ctx, "a.txt"))


def _b(ctx):
    CALLS.append("B")
    return ctx.result("A") + 1


def _c(ctx):
    CALLS.append("C")
    return _read(ctx, "c.txt")


def _d(ctx):
    CALLS.append("D")
    if ctx.result("C") == "bad":
        raise RuntimeError("C says bad")
    return "d"


def _e(ctx):
    CALLS.append("E")
    return (ctx.result("B"), ctx.result("D"))


def _s(ctx):
    CALLS.append("S")
    f = ctx.study.out_dir / "state.txt"
    f.write_text(f.read_text(encoding="utf-8") + "+" if f.exists() else "s", encoding="utf-8")
    return "s"


STAGES = [
    Stage("A", _a, files=lambda st: {"inputs.a": st.folder / "a.txt"}),
    Stage("B", _b, needs=("A",)),
    Stage("C", _c, files=lambda st: {"inputs.c": st.folder / "c.txt"}),
    Stage("D", _d, needs=("C",)),
    Stage("E", _e, uses=("B", "D")),
    Stage("S", _s, state=("state.txt",)),
]


def _run(study, stages=STAGES, **kw):
    CALLS.clear()
    kw.setdefault("parallel", False)
    return _Runner(study, stages, client=None, force=False, progress=lambda *_: None,
                   **kw).run()


def test_rerun_does_only_what_changed(tmp_path):
    study = _study(tmp_path)
    first = _run(study)
    assert first.stages == dict.fromkeys("ABCDES", "ok")
    assert first.values["E"] == (2, "d")
    record = json.loads((study.out_dir / "run-record.json").read_text(encoding="utf-8"))
    a = record["stages"]["A"]
    assert set(a["inputs"]) == {"inputs.a"} and len(a["inputs"]["inputs.a"]) == 64
    assert a["versions"]["amurlink"] and a["status"] == "ok" and a["seconds"] >= 0
    assert a["cpu_s"] >= 0 and set(first.cpu) == set("ABCDES")

    again = _run(study)  # nothing changed: nothing runs
    assert CALLS == [] and set(again.stages.values()) == {"cached"}

    time.sleep(0.01)
    (tmp_path / "a.txt").write_text("5", encoding="utf-8")
    changed = _run(study)  # only A and what depends on it
    assert sorted(CALLS) == ["A", "B", "E"]
    assert changed.stages["C"] == changed.stages["D"] == changed.stages["S"] == "cached"
    assert changed.values["E"] == (6, "d")  # D's value came from the kept result

    (study.out_dir / "state.txt").write_text("changed by a person", encoding="utf-8")
    assert _run(study).ran == ["S"]  # a state file changed outside the run: S reruns


def test_a_failed_stage_is_reported_and_independent_stages_still_run(tmp_path):
    study = _study(tmp_path)
    (tmp_path / "c.txt").write_text("bad", encoding="utf-8")
    res = _run(study)
    # what happened and what to do, never an exception class name
    assert res.stages["D"].startswith("failed: unexpected error (C says bad); this is a fault")
    assert "--serial" in res.stages["D"] and "RuntimeError" not in res.stages["D"]
    assert res.stages["E"] == "ok" and res.values["E"] == (2, None)  # uses D: runs without
    assert set(res.failed) == {"D"}
    assert "D" in _run(study).ran  # a failed stage is tried again


def test_a_missing_input_fails_its_stage_and_skips_what_needs_it(tmp_path):
    study = _study(tmp_path)
    os.remove(tmp_path / "a.txt")
    res = _run(study)
    assert res.stages["A"].startswith("failed: input file(s) not found: `inputs.a`")
    assert res.stages["B"] == "skipped: needs A (failed)"
    assert res.stages["C"] == res.stages["D"] == "ok"


def test_forked_stages_return_their_values(tmp_path):
    study = _study(tmp_path)
    stages = [Stage("A", _a, files=lambda st: {"inputs.a": st.folder / "a.txt"}, where="fork"),
              Stage("B", _b, needs=("A",), where="fork")]
    res = _run(study, stages, parallel=True)
    assert res.values["B"] == 2 and res.stages == {"A": "ok", "B": "ok"}
    assert set(res.cpu) == {"A", "B"} and all(v >= 0 for v in res.cpu.values())
    assert set(res.background) <= {"A", "B"}


def test_stage_names_and_cycles_are_checked(tmp_path):
    study = _study(tmp_path)
    with pytest.raises(ValueError, match="cycle"):
        _run(study, [Stage("X", _a, needs=("Y",)), Stage("Y", _a, needs=("X",))])


def test_a_folder_holding_one_mapping_is_a_mapping(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "ru.mapping.toml").write_text("", encoding="utf-8")
    assert resolve_source(tmp_path / "one") == tmp_path / "one" / "ru.mapping.toml"
    (tmp_path / "two").mkdir()
    for n in ("a.mapping.toml", "b.mapping.toml"):
        (tmp_path / "two" / n).write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="holds 2 mapping files"):
        resolve_source(tmp_path / "two")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "datapackage.json").write_text("{}", encoding="utf-8")
    assert resolve_source(tmp_path / "pkg") == tmp_path / "pkg"


def _log(rows):
    from amurlink.identify.links import empty_links

    base = empty_links()
    frame = pd.DataFrame(rows)
    for col in base.columns:
        if col not in frame:
            frame[col] = None
    return frame[list(base.columns)].astype(base.dtypes.to_dict())


def test_carry_over_keeps_every_decision_and_adds_new_pairs():
    old = _log([{"linkEventID": "e1", "subjectA": "CN-A:1", "subjectB": "RU-B:1",
                 "method": "expert", "status": "proposed", "reviewer": "x",
                 "timestamp": pd.Timestamp("2024-01-01", tz="UTC")},
                {"linkEventID": "e2", "subjectA": "CN-A:1", "subjectB": "RU-B:1",
                 "method": "expert", "status": "confirmed", "reviewer": "cn-reviewer",
                 "timestamp": pd.Timestamp("2024-01-02", tz="UTC")}])
    new = _log([{"linkEventID": "n1", "subjectA": "RU-B:1", "subjectB": "CN-A:1",
                 "method": "expert", "status": "proposed", "reviewer": "x",
                 "timestamp": pd.Timestamp("2024-02-01", tz="UTC")},
                {"linkEventID": "n2", "subjectA": "CN-A:2", "subjectB": "RU-B:2",
                 "method": "expert", "status": "confirmed", "reviewer": "x",
                 "timestamp": pd.Timestamp("2024-02-01", tz="UTC")}])
    merged = carry_over_links(old, new)
    assert list(merged["linkEventID"]) == ["e1", "e2", "n2"]
    assert carry_over_links(None, new) is new
    assert list(carry_over_links(old, None)["linkEventID"]) == ["e1", "e2"]


def test_place_beside_copies_border_and_settings_without_inputs(tmp_path):
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "line.geojson").write_text("{}", encoding="utf-8")
    cfg = tmp_path / "amurlink.toml"
    cfg.write_text('[border]\nfile = "maps/line.geojson"\n\n[inputs]\ncrosswalk = "c.csv"\n'
                   '[inputs.CN]\ncamtrap_dp = ["cn"]\n', encoding="utf-8")
    joint = tmp_path / "joint"
    joint.mkdir()
    place_beside(joint, cfg, tmp_path / "maps" / "line.geojson")
    text = (joint / "amurlink.toml").read_text(encoding="utf-8")
    assert 'file = "border.geojson"' in text and "[inputs" not in text
    assert (joint / "border.geojson").read_text(encoding="utf-8") == "{}"
    from amurlink.config import load_config

    assert load_config(joint / "amurlink.toml").border.file == joint / "border.geojson"


def test_run_skip_leaves_out_stages_and_what_needs_them_without_failing(tmp_path):
    study = _study(tmp_path)
    (tmp_path / "amurlink.toml").write_text('[run]\nskip = ["C"]\n', encoding="utf-8")
    study = Study.open(tmp_path)
    res = _run(study)
    assert res.stages["C"] == "skipped: left out by [run] skip"
    assert res.stages["D"] == "skipped: left out by [run] skip (needs C)"
    assert "C" not in CALLS and "D" not in CALLS
    assert res.stages["E"] == "ok" and res.values["E"] == (2, None)  # uses D: runs without
    assert res.failed == {}  # left out on purpose is not a failure
    # the setting is not part of what a stage computes: dropping it reruns only C and D
    (tmp_path / "amurlink.toml").write_text("", encoding="utf-8")
    again = _run(Study.open(tmp_path))
    assert sorted(again.ran) == ["C", "D", "E"]
    assert again.stages["A"] == again.stages["B"] == "cached"


def test_run_skip_names_are_checked_before_anything_runs(tmp_path):
    from amurlink.exceptions import ConfigError
    from amurlink.study import run_study

    (tmp_path / "amurlink.toml").write_text('[run]\nskip = ["desing"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"`run.skip` names 'desing'.*did you mean 'design'"):
        run_study(tmp_path)
    assert not (tmp_path / "output" / "run-record.json").exists()


def _warns(ctx):
    import warnings

    from amurlink.exceptions import MaskBufferWarning

    warnings.warn("Panthera pardus RU: mask buffer 10.0 km is less than 3 x the fitted sigma "
                  "(3.44 km); density may be overestimated: widen the buffer",
                  MaskBufferWarning, stacklevel=1)
    warnings.warn("invalid value encountered in divide", RuntimeWarning, stacklevel=1)
    warnings.warn("invalid value encountered in divide", RuntimeWarning, stacklevel=1)
    return 1


@pytest.mark.parametrize("where", ["main", "fork"])
def test_warnings_say_where_what_and_what_to_do_without_class_names(tmp_path, where):
    study = _study(tmp_path)
    res = _run(study, [Stage("secr", _warns, where=where)], parallel=where == "fork")
    text = "\n".join(res.warnings)
    for name in ("MaskBufferWarning", "RuntimeWarning", "UserWarning", "Warning:"):
        assert name not in text
    own = [w for w in res.warnings if "mask buffer" in w]
    assert own == [own[0]] and own[0].startswith("secr: Panthera pardus RU: mask buffer")
    assert "amurlink secr OUT/joint --species NAME --buffer KM" in own[0]  # what to do
    # the two library notices: one line saying there is nothing to do, listed in the record
    lib = [w for w in res.warnings if "from the libraries" in w]
    assert len(lib) == 1 and lib[0].startswith("2 notice(s)") and "nothing to do" in lib[0]
    record = json.loads((study.out_dir / "run-record.json").read_text(encoding="utf-8"))
    assert record["library_notices"] == [
        "secr: library notice: invalid value encountered in divide"]
    assert record["warnings"] == res.warnings


def test_run_summary_prints_every_warning_without_class_names_or_lost_brackets(tmp_path):
    from rich.console import Console

    from amurlink.cli.run import print_summary

    _study(tmp_path)
    (tmp_path / "amurlink.toml").write_text('[run]\nskip = ["C"]\n', encoding="utf-8")
    res = _run(Study.open(tmp_path), [*STAGES, Stage("secr", _warns)])
    console = Console(record=True, width=200)
    print_summary(console, res)
    out = console.export_text()
    assert "skipped: left out by [run] skip" in out  # the brackets are text, not markup
    assert "Warnings (2)" in out and "mask buffer" in out and "2 notice(s)" in out
    assert "Warning" not in out.replace("Warnings (2)", "")


def test_the_demo_writes_run_skip_into_its_study(tmp_path):
    from amurlink.config import load_config
    from amurlink.study.demo import _set_skip

    toml = tmp_path / "amurlink.toml"
    toml.write_text('[inputs.reports]\nowner = ["en"]\n', encoding="utf-8")
    _set_skip(tmp_path, ("design", "secr models"))
    cfg = load_config(toml)
    assert cfg.run.skip == ("design", "secr models")
    assert cfg.inputs.reports["owner"] == ("en",)


def test_the_demo_reports_simulation_warnings_and_failures_without_class_names(
        tmp_path, monkeypatch):
    import warnings

    import amurlink.simulate
    from amurlink.exceptions import DataQualityWarning
    from amurlink.study.demo import run_demo

    def broken(*_a, **_k):
        warnings.warn("12 animals have no home range; they are left out", DataQualityWarning,
                      stacklevel=1)
        raise DataError("scenario 'tiny' has no landscape; use small, neaspec or large")

    monkeypatch.setattr(amurlink.simulate, "simulate_study", broken)
    res = run_demo(tmp_path / "demo", scenario="small")
    assert res.stages["simulate"] == ("failed: scenario 'tiny' has no landscape; use small, "
                                      "neaspec or large")
    assert res.warnings == ["simulation: 12 animals have no home range; they are left out"]
