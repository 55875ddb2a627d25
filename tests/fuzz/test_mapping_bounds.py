"""Memory and time bounds of hostile national tables read through an import mapping (issue 14).

A mapped CSV of at most 10 MB (empty rows, rows of delimiters, one very wide row) stays under
1 GB of peak RSS and 60 s through ``amurlink harmonise`` and through the web upload, measured
in a child process like the other hostile inputs (``tests/fuzz/test_bounds.py``). Before, 10 MB
of empty cells reached 1.5 GB and one row of ten million delimiters 3.8 GB and minutes. The
files are generated here; nothing large is committed.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import warnings
import zipfile
from pathlib import Path

import pytest

from amurlink.datasets import example_path
from amurlink.exceptions import DataError
from amurlink.io._readers.tabular import _CELL_COST, MAX_CSV_FIELDS, read_text_table
from amurlink.io._source import DEFAULT_BUDGET_BYTES
from amurlink.io.mapping import DEFAULT_ROW_COST, import_mapping

TEN_MB = 10_000_000

WEB_MAPPING_UPLOAD = r"""
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "amurlink_web.config.settings"
import django
django.setup()
from django.core.management import call_command
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from amurlink_web.apps.organisations.models import Organisation, Role
from amurlink_web.apps.organisations.services import organisation_create, user_create
call_command("migrate", verbosity=0, interactive=False)
org = organisation_create(name="LLNP", slug="llnp", country="RU",
                          kind=Organisation.Kind.PARK, catalogue="RU-LLNP")
user = user_create(username="ru-contributor", password="a-long-test-password-2024",
                   organisation=org, role=Role.CONTRIBUTOR)
client = Client()
client.force_login(user)
with open(sys.argv[1], "rb") as fh:
    upload = SimpleUploadedFile(sys.argv[2], fh.read())
response = client.post("/orgs/llnp/upload/", {"package": upload, "kind": "mapping"})
body = response.content.decode()
print(json.dumps({"status": response.status_code, "report": "Validation report" in body,
                  "refused": "read budget" in body or "fields, more than" in body,
                  "records": "records.csv" in body, "server_path": sys.argv[1] in body}))
"""


def _hostile_mapping(folder: Path, fuzz, *, body: str, minimal: bool = False,
                     table: str = "records.csv") -> Path:
    """The fuzz mapping with ``table`` = its header line + ``body`` (``minimal``: the records
    mapped by station and time only, the narrowest table a mapping accepts)."""
    toml = fuzz.mapping_folder(folder)
    if minimal:
        text = toml.read_text(encoding="utf-8").replace(
            ', scientificName = "Species", individualID = "Individual"', "")
        toml.write_text(text, encoding="utf-8")
        (folder / "records.csv").write_text("Station,Date\n", encoding="utf-8")
    path = folder / table
    header = path.read_text(encoding="utf-8").splitlines()[0]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(header + "\n")
        fh.write(body)
    assert path.stat().st_size <= TEN_MB
    return toml


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "amurlink.toml"
    shutil.copyfile(example_path().parent / "amurlink.toml", cfg)
    return cfg


def _harmonise(tmp_path: Path, toml: Path, fuzz) -> tuple[dict, str]:
    out = fuzz.run_measured(fuzz.cli_argv("harmonise", "-c", str(_config(tmp_path)),
                                          "-o", str(tmp_path / "joint"), str(toml)),
                            env={"AMURLINK_READ_BUDGET": ""})  # the bound is the default's
    text = out["stdout"] + out["stderr"]
    fuzz.assert_clean_exit(out["rc"], text, allowed=(1,))
    assert out["rss_mb"] < fuzz.RSS_LIMIT_MB, out
    assert out["wall_s"] < fuzz.TIME_LIMIT_S, out
    assert not (tmp_path / "joint").exists()  # nothing written from invalid input
    return out, text


def _web_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "web").mkdir(exist_ok=True)
    return {"AMURLINK_WEB_HOME": str(tmp_path / "web"), "AMURLINK_DB_URL": "",
            "DATABASE_URL": "", "AMURLINK_WEB_DATA": str(tmp_path / "web" / "data"),
            "AMURLINK_SECRET_KEY": "fuzz-only-not-secret-" + "x" * 40,
            "AMURLINK_READ_BUDGET": ""}


def _web_upload(tmp_path: Path, folder: Path, fuzz) -> dict:
    """The mapping folder as a stored zip (at most 10 MB) through the web upload."""
    z = tmp_path / "ru-tables.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_STORED) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f"ru/{f.name}")
    assert z.stat().st_size <= TEN_MB + 4096
    out = fuzz.run_measured([sys.executable, "-c", WEB_MAPPING_UPLOAD, str(z), z.name],
                            env=_web_env(tmp_path))
    assert out["rc"] == 0, out["stderr"][-3000:]
    assert out["rss_mb"] < fuzz.RSS_LIMIT_MB, out
    assert out["wall_s"] < fuzz.TIME_LIMIT_S, out
    return json.loads(out["stdout"].strip().splitlines()[-1])


def _admitted_rows(columns: int) -> int:
    """Rows of empty cells (``columns`` wide) just under what the default budget admits."""
    per_row = 2 * columns + _CELL_COST * columns + DEFAULT_ROW_COST  # see _check_csv_cost
    return min(int(0.97 * DEFAULT_BUDGET_BYTES / per_row), TEN_MB // columns - 100)


# -- through the CLI and the web (child processes, peak RSS) -----------------------------------
@pytest.fixture(scope="module")
def empty_cells(tmp_path_factory, fuzz) -> Path:
    """10 MB of records with every cell empty (2.5 million rows of ',,,')."""
    folder = tmp_path_factory.mktemp("empty") / "m"
    return _hostile_mapping(folder, fuzz, body=",,,\n" * ((TEN_MB - 100) // 4)).parent


def test_cli_harmonise_of_10mb_of_empty_records_is_refused_early(empty_cells, tmp_path, fuzz):
    _, text = _harmonise(tmp_path, empty_cells / "ru.mapping.toml", fuzz)
    assert "records.csv: by row " in text and "read budget" in text


@pytest.mark.web
def test_web_upload_of_10mb_of_empty_records_is_a_400_report(empty_cells, tmp_path, fuzz):
    result = _web_upload(tmp_path, empty_cells, fuzz)
    assert result == {"status": 400, "report": True, "refused": True, "records": True,
                      "server_path": False}


def test_cli_harmonise_of_one_row_of_ten_million_delimiters_is_refused(tmp_path, fuzz):
    toml = _hostile_mapping(tmp_path / "m", fuzz, body="S1" + "," * (TEN_MB - 200) + "\n")
    _, text = _harmonise(tmp_path, toml, fuzz)
    assert "records.csv: row 2 has at least" in text
    assert f"more than the {MAX_CSV_FIELDS}" in text


def test_the_largest_records_table_the_budget_admits_stays_bounded(tmp_path, fuzz):
    # the worst case that is parsed and imported: the narrowest records table, empty cells,
    # as many rows as the default budget admits (about 2.1 million, 4.3 MB)
    n = _admitted_rows(2)
    toml = _hostile_mapping(tmp_path / "m", fuzz, body=",\n" * n, minimal=True)
    out, text = _harmonise(tmp_path, toml, fuzz)
    assert "read budget" not in text  # admitted, parsed and imported ...
    assert re.search(r"records\.csv:\d+ \[", text), text[-2000:]  # ... row by row


@pytest.mark.slow
@pytest.mark.web
def test_web_upload_of_the_largest_admitted_records_table_stays_bounded(tmp_path, fuzz):
    toml = _hostile_mapping(tmp_path / "m", fuzz, body=",\n" * _admitted_rows(2), minimal=True)
    result = _web_upload(tmp_path, toml.parent, fuzz)
    assert result["status"] == 400 and result["report"] and not result["refused"], result


@pytest.mark.slow
@pytest.mark.parametrize("case", ["stations-empty", "wide-header", "cr-lines", "unique-ids"])
def test_more_hostile_mapped_tables_stay_bounded(tmp_path, fuzz, case):
    if case == "stations-empty":
        toml = _hostile_mapping(tmp_path / "m", fuzz, table="stations.csv",
                                body=",,,,\n" * ((TEN_MB - 100) // 5))
    elif case == "wide-header":
        toml = _hostile_mapping(tmp_path / "m", fuzz, body="")
        (toml.parent / "records.csv").write_text("Station,Date,Species,Individual"
                                                 + ",x" * (TEN_MB // 2 - 100) + "\n")
    elif case == "cr-lines":  # lone carriage returns end rows too
        toml = _hostile_mapping(tmp_path / "m", fuzz, body=",,,\r" * ((TEN_MB - 100) // 4))
    else:  # 700,000 distinct individuals
        toml = _hostile_mapping(tmp_path / "m", fuzz, body="".join(
            f"S1,x,y,{i}\n" for i in range(700_000)))
    _harmonise(tmp_path, toml, fuzz)


# -- the check itself, in process ---------------------------------------------------------------
def test_every_line_ending_counts_and_the_row_is_named(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes(b"a,b\r" + b",\r" * 50_000)
    with pytest.raises(DataError, match=r"t\.csv: by row \d+ .* read budget"):
        read_text_table(p, budget=1024**2)
    p.write_bytes(b"a,b\r\n" + b"1,2\r\n" * 3 + b"3" + b"," * MAX_CSV_FIELDS + b"\r\n")
    with pytest.raises(DataError, match=rf"t\.csv: row 5 has {MAX_CSV_FIELDS + 1} fields"):
        read_text_table(p)
    p.write_bytes(b"a;b\n1;2\n")  # the file's own delimiter, not a comma
    assert read_text_table(p, delimiter=";").shape == (1, 2)


def test_a_row_cost_is_charged_per_row(tmp_path, fuzz):
    toml = _hostile_mapping(tmp_path / "m", fuzz, body="S1,02.01.2014 10:00:00,Тигр,T1\n" * 3)
    records = toml.parent / "records.csv"
    cells_only = records.stat().st_size * 2 + _CELL_COST * 4 * 5
    with pytest.raises(DataError, match="by row"):
        read_text_table(records, budget=cells_only + 100, row_cost=DEFAULT_ROW_COST)
    assert len(read_text_table(records, budget=cells_only + 100)) == 3
    ds, report = import_mapping(toml)
    assert report.valid and len(ds.observations) == 3


def test_a_station_table_without_any_coordinate_is_errors_not_numpy_warnings(tmp_path, fuzz):
    # before: "RuntimeWarning: Mean of empty slice" from the axis-swap guess (stderr noise on
    # the CLI, an exception where warnings are errors)
    toml = _hostile_mapping(tmp_path / "m", fuzz, table="stations.csv", body=",,,,\n" * 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, report = import_mapping(toml)
    assert {(i.row, i.field) for i in report.errors if i.code == "type-error"} >= {
        (2, "X"), (2, "Y"), (4, "X")}
