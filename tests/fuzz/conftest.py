"""The fuzz suite's shared pieces: hostile files generated at test time, fixed seeds.

Nothing large is committed: every bomb, broken archive and mutated file is written into
``tmp_path`` by the builders below. Cases that check the memory and time bounds run in a
child process measured by its peak RSS (``getrusage(RUSAGE_CHILDREN).ru_maxrss`` taken in
a wrapper process, so that no earlier child of the test session counts); everything else
runs in process.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from amurlink.datasets import example_path

#: The bounds of issue 14 for a hostile input of at most 10 MB.
RSS_LIMIT_MB = 1024
TIME_LIMIT_S = 60

_MEASURE = r"""
import json, resource, subprocess, sys, time
start = time.monotonic()
try:
    p = subprocess.run(sys.argv[2:], capture_output=True, text=True, timeout=float(sys.argv[1]))
    rc, out, err = p.returncode, p.stdout, p.stderr
except subprocess.TimeoutExpired as exc:
    rc, out, err = 124, str(exc.stdout or ""), str(exc.stderr or "")
wall = time.monotonic() - start
rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": rc, "wall_s": wall, "rss_mb": rss_kb / 1024,
                  "stdout": out[-4000:], "stderr": err[-4000:]}))
"""


def run_measured(argv: list[str], *, timeout: float = 2 * TIME_LIMIT_S,
                 env: dict[str, str] | None = None) -> dict:
    """Run ``argv`` in a child of a fresh wrapper process; its exit code, wall time, peak RSS."""
    full_env = {**os.environ, **(env or {})}
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(timeout), *argv],
                         capture_output=True, text=True, env=full_env, timeout=timeout + 60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def cli_argv(*args: str) -> list[str]:
    """The amurlink CLI as a child process of this interpreter."""
    return [sys.executable, "-c", "import sys; from amurlink.cli import main; "
            "sys.argv[0] = 'amurlink'; main()", *args]


def assert_clean_exit(code: int, output: str, *, allowed=(0, 1, 2)) -> None:
    """Exit 0, 1 or 2; a message when not 0; never a traceback or an internal error."""
    assert code in allowed, (code, output[-2000:])
    assert "Traceback" not in output, output[-2000:]
    assert "internal error" not in output, output[-2000:]
    if code:
        assert output.strip(), "a failing run must say why"


# -- builders ------------------------------------------------------------------------------------
def toy_folder(dst: Path) -> Path:
    """A writable copy of the bundled toy package."""
    shutil.copytree(example_path(), dst)
    return dst


def core_folder(dst: Path) -> Path:
    """The toy package cut to the three Camtrap DP core tables (cheaper to read many times)."""
    toy_folder(dst)
    desc = json.loads((dst / "datapackage.json").read_text(encoding="utf-8"))
    keep = [r for r in desc["resources"] if r.get("name") in ("deployments", "media",
                                                              "observations")]
    for r in desc["resources"]:
        if r not in keep:
            (dst / r["path"]).unlink(missing_ok=True)
    desc["resources"] = keep
    (dst / "datapackage.json").write_text(json.dumps(desc, indent=1), encoding="utf-8")
    return dst


def zip_folder(folder: Path, out: Path, method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(out, "w", method) as zf:
        for f in sorted(folder.iterdir()):
            if f.is_file():
                zf.write(f, f.name)
    return out


def ratio_bomb_zip(out: Path, compressed_mb: float, *, seed: int = 0) -> Path:
    """The review's zip: the toy package whose observations.csv inflates about 120 times.

    Rows of empty cells (a digit in every seventh row keeps each member under the 200:1
    ratio limit) until the archive reaches ``compressed_mb``; a few hundred MB inflated.
    """
    src = example_path()
    header = (src / "observations.csv").read_text(encoding="utf-8").splitlines()[0]
    commas = "," * header.count(",")
    rnd = random.Random(seed)
    block = "".join((str(rnd.randrange(10)) if i % 7 == 0 else "") + commas + "\n"
                    for i in range(40_000)).encode()
    target = compressed_mb * 1e6
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for f in sorted(src.iterdir()):
            if f.name != "observations.csv":
                zf.write(f, f.name)
        with zf.open("observations.csv", "w", force_zip64=True) as fh:
            fh.write((header + "\n").encode())
            while out.stat().st_size < target:
                for _ in range(16):
                    fh.write(block)
    return out


def png_claiming(path: Path, width: int, height: int) -> Path:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 4096)) + chunk(b"IEND", b""))
    return path


STATIONS = "Station,X,Y,Setup,End\nS1,4815000,23500000,01.01.2014,01.03.2014\n" \
           "S2,4816000,23501000,01.01.2014,01.03.2014\n"
RECORDS = "Station,Date,Species,Individual\nS1,02.01.2014 10:00:00,Тигр,T1\n" \
          "S2,03.01.2014 11:30:00,Кабан,\n"
MAPPING = """[source]
country = "RU"
catalogue = "RU-LLNP"
crs = "EPSG:28423"
timezone = "Asia/Vladivostok"

[tables.stations]
file = "stations.csv"
datetime_format = "%d.%m.%Y"
columns = {{ deploymentID = "Station", x = "{x}", y = "{y}", {dates} }}

[tables.records]
file = "records.csv"
datetime_format = "%d.%m.%Y %H:%M:%S"
columns = {{ deploymentID = "Station", timestamp = "Date", scientificName = "Species", {ind} }}

[species]
"Тигр" = "Panthera tigris"
"Кабан" = "Sus scrofa"
"""


def mapping_folder(folder: Path, *, x: str = "Y", y: str = "X") -> Path:
    """A small valid national-table mapping (two stations, two records); its TOML path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stations.csv").write_text(STATIONS, encoding="utf-8")
    (folder / "records.csv").write_text(RECORDS, encoding="utf-8")
    text = MAPPING.format(x=x, y=y, dates='deploymentStart = "Setup", deploymentEnd = "End"',
                          ind='individualID = "Individual"')
    (folder / "ru.mapping.toml").write_text(text, encoding="utf-8")
    return folder / "ru.mapping.toml"


GENOTYPES_WIDE = ("sampleID,sampleType,L1a,L1b,L2a,L2b,L3a,L3b\n"
                  "S1,scat,100,104,200,200,150,154\n"
                  "S2,hair,102,104,-99,-99,150,150\n"
                  "S3,scat,100,100,202,206,152,154\n")
GENOTYPES_LONG = ("sampleID,locus,allele1,allele2,replicate\n"
                  "S1,L1,100,104,1\nS1,L2,200,200,1\nS2,L1,102,104,1\nS2,L2,-99,-99,1\n")


def mutate(data: bytes, rnd: random.Random, *, text: bool = False) -> bytes:
    """One random mutation: flip, insert, delete, duplicate or truncate bytes, or splice in
    a hostile token (deep nesting, a huge number, a non-finite value, a formula, a NUL)."""
    b = bytearray(data)
    if not b:
        return bytes(rnd.randrange(256) for _ in range(8))
    op = rnd.randrange(9)
    at = rnd.randrange(len(b))
    if op == 0:
        for _ in range(rnd.randint(1, 8)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
    elif op == 1:
        b[at:at] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 16)))
    elif op == 2:
        del b[at: at + rnd.randint(1, 64)]
    elif op == 3:
        n = rnd.randint(1, 200)
        b[at:at] = b[at: at + n] * rnd.randint(2, 20)
    elif op == 4:
        del b[rnd.randrange(len(b)):]
    elif op == 5:
        token = rnd.choice([b"[" * 3000, b"{\"a\":" * 2000, b"1e400", b"nan", b"inf", b"-inf",
                            b"99999999999999999999999", b"=HYPERLINK(\"x\")", b"\x00", b"\"",
                            b",,,,,,,,", b"\r", b"\n\n\n", b"\xff\xfe", "Тигр".encode(),
                            b"../../etc/passwd", b"/etc/passwd", b"-1", b"\t"])
        b[at:at] = token
    elif op == 6 and text:  # swap two lines
        lines = bytes(b).split(b"\n")
        if len(lines) > 2:
            i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        b = bytearray(b"\n".join(lines))
    elif op == 7 and text:  # drop cells from one line
        lines = bytes(b).split(b"\n")
        k = rnd.randrange(len(lines))
        cells = lines[k].split(b",")
        lines[k] = b",".join(cells[: rnd.randrange(len(cells) + 1)])
        b = bytearray(b"\n".join(lines))
    else:
        b[at] = rnd.choice(b",;\"\n\r\t0-9.")
    return bytes(b)


@pytest.fixture(scope="session")
def fuzz():
    """The helpers above, for tests (the suite imports no sibling modules)."""
    return SimpleNamespace(
        run_measured=run_measured, cli_argv=cli_argv, assert_clean_exit=assert_clean_exit,
        toy_folder=toy_folder, core_folder=core_folder, zip_folder=zip_folder,
        ratio_bomb_zip=ratio_bomb_zip,
        png_claiming=png_claiming, mapping_folder=mapping_folder, mutate=mutate,
        GENOTYPES_WIDE=GENOTYPES_WIDE, GENOTYPES_LONG=GENOTYPES_LONG,
        RSS_LIMIT_MB=RSS_LIMIT_MB, TIME_LIMIT_S=TIME_LIMIT_S,
    )
