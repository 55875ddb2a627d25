"""Peak memory and time of hostile inputs under the default read budget (issue 14).

Each case runs in a child process measured by its peak RSS (``RUSAGE_CHILDREN`` of a fresh
wrapper), with the builders of the fuzz suite (``tests/fuzz/conftest.py``): the review's zip
bombs (members under the 200:1 ratio limit) through ``amurlink validate`` and through the web
upload, a descriptor nested five million levels deep, a valid package near the budget, and
national tables read through an import mapping (``tests/fuzz/test_mapping_bounds.py``): 10 MB
of empty records through ``amurlink harmonise`` and the web upload, one row of ten million
delimiters, and the largest records table of empty cells the default budget admits.
The bound to keep: under 1 GB and 60 s for an input of at most 10 MB.

Run: ``.venv/bin/python benchmarks/bench_hostile.py``
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    fz = _load("fuzz_conftest", ROOT / "tests" / "fuzz" / "conftest.py")
    bounds = _load("fuzz_bounds", ROOT / "tests" / "fuzz" / "test_bounds.py")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        for mb in (3.0, 9.8):
            z = fz.ratio_bomb_zip(t / f"bomb{mb}.zip", mb)
            inflated = sum(i.file_size for i in __import__("zipfile").ZipFile(z).infolist())
            out = fz.run_measured(fz.cli_argv("validate", str(z)))
            rows.append((f"validate, {mb} MB zip bomb ({inflated / 1e6:.0f} MB inflated)",
                         out["rc"], out["rss_mb"], out["wall_s"]))
            web = t / f"web{mb}"
            web.mkdir()
            env = {"AMURLINK_WEB_HOME": str(web), "AMURLINK_DB_URL": "", "DATABASE_URL": "",
                   "AMURLINK_WEB_DATA": str(web / "data"),
                   "AMURLINK_SECRET_KEY": "bench-only-not-secret-" + "x" * 40}
            out = fz.run_measured([sys.executable, "-c", bounds.WEB_UPLOAD, str(z), "b.zip"],
                                  env=env)
            status = json.loads(out["stdout"].strip().splitlines()[-1])["status"]
            rows.append((f"web upload, {mb} MB zip bomb (migrate + upload)", f"HTTP {status}",
                         out["rss_mb"], out["wall_s"]))
        deep = fz.toy_folder(t / "deep")
        (deep / "datapackage.json").write_text('{"resources": ' + "[" * 5_000_000
                                               + "]" * 5_000_000 + "}", encoding="utf-8")
        out = fz.run_measured(fz.cli_argv("validate", str(deep)))
        rows.append(("validate, descriptor nested 5,000,000 deep (10 MB)", out["rc"],
                     out["rss_mb"], out["wall_s"]))
        pkg = fz.toy_folder(t / "valid")
        lines = (pkg / "observations.csv").read_text(encoding="utf-8").splitlines()
        row = lines[1].split(",")
        with open(pkg / "observations.csv", "a", encoding="utf-8") as fh:
            for i in range(560_000):
                row[0], row[2] = f"x{i}", ""
                fh.write(",".join(row) + "\n")
        z = fz.zip_folder(pkg, t / "valid.zip")
        out = fz.run_measured(fz.cli_argv("validate", str(z)))
        rows.append((f"validate, valid package near the budget ({z.stat().st_size / 1e6:.1f} "
                     "MB zip, 560k rows)", out["rc"], out["rss_mb"], out["wall_s"]))
        mapped = _load("fuzz_mapping", ROOT / "tests" / "fuzz" / "test_mapping_bounds.py")
        helpers = SimpleNamespace(mapping_folder=fz.mapping_folder)
        cfg = ROOT / "src" / "amurlink" / "datasets" / "amurlink.toml"
        for name, body, minimal in (
                ("10 MB of empty records (2.5M rows of ',,,')",
                 ",,,\n" * ((mapped.TEN_MB - 100) // 4), False),
                ("one records row of 10M delimiters", "S1" + "," * (mapped.TEN_MB - 200) + "\n",
                 False),
                (f"largest admitted records table ({mapped._admitted_rows(2):,} empty rows)",
                 ",\n" * mapped._admitted_rows(2), True)):
            folder = t / f"map{len(rows)}"
            toml = mapped._hostile_mapping(folder, helpers, body=body, minimal=minimal)
            out = fz.run_measured(fz.cli_argv("harmonise", "-c", str(cfg), "-o",
                                              str(folder / "joint"), str(toml)))
            rows.append((f"harmonise, {name}", out["rc"], out["rss_mb"], out["wall_s"]))
            if minimal or body.startswith(",,,"):
                z = t / f"map{len(rows)}.zip"
                with __import__("zipfile").ZipFile(z, "w") as zf:  # stored, as uploaded
                    for f in sorted(folder.glob("*.*")):
                        zf.write(f, f"ru/{f.name}")
                web = t / f"webmap{len(rows)}"
                web.mkdir()
                env = {"AMURLINK_WEB_HOME": str(web), "AMURLINK_DB_URL": "",
                       "DATABASE_URL": "", "AMURLINK_WEB_DATA": str(web / "data"),
                       "AMURLINK_SECRET_KEY": "bench-only-not-secret-" + "x" * 40}
                out = fz.run_measured([sys.executable, "-c", mapped.WEB_MAPPING_UPLOAD, str(z),
                                       "ru.zip"], env=env)
                status = json.loads(out["stdout"].strip().splitlines()[-1])["status"]
                rows.append((f"web upload (mapping), {name}", f"HTTP {status}", out["rss_mb"],
                             out["wall_s"]))
    print(f"{'case':<66}{'exit':>9}{'peak RSS MB':>13}{'seconds':>9}")
    for name, rc, rss, wall in rows:
        print(f"{name:<66}{rc!s:>9}{rss:>13.0f}{wall:>9.1f}")


if __name__ == "__main__":
    main()
