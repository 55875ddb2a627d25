"""Memory and time bounds of hostile inputs, measured in child processes (issue 14).

Under the default read budget a hostile input of at most 10 MB stays under 1 GB of peak RSS
and 60 s, through the CLI and through the web upload.
"""

from __future__ import annotations

import json
import sys

import pytest

WEB_UPLOAD = r"""
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
org = organisation_create(name="NTLNP", slug="ntlnp", country="CN",
                          kind=Organisation.Kind.PARK, catalogue="CN-NTLNP")
user = user_create(username="cn-contributor", password="a-long-test-password-2024",
                   organisation=org, role=Role.CONTRIBUTOR)
client = Client()
client.force_login(user)
with open(sys.argv[1], "rb") as fh:
    upload = SimpleUploadedFile(sys.argv[2], fh.read())
response = client.post("/orgs/ntlnp/upload/", {"package": upload})
body = response.content.decode()
print(json.dumps({"status": response.status_code, "report": "Validation report" in body,
                  "budget": "read budget" in body, "server_path": sys.argv[1] in body}))
"""


def _web_env(tmp_path) -> dict[str, str]:
    (tmp_path / "web").mkdir(exist_ok=True)
    return {"AMURLINK_WEB_HOME": str(tmp_path / "web"), "AMURLINK_DB_URL": "",
            "DATABASE_URL": "", "AMURLINK_WEB_DATA": str(tmp_path / "web" / "data"),
            "AMURLINK_SECRET_KEY": "fuzz-only-not-secret-" + "x" * 40}


@pytest.fixture(scope="module")
def bomb_3mb(tmp_path_factory, fuzz):
    """The review's ~3 MB zip, members under the 200:1 ratio limit (about 270 MB inflated)."""
    return fuzz.ratio_bomb_zip(tmp_path_factory.mktemp("bomb") / "bomb3.zip", 3.0)


def test_cli_validate_of_a_3mb_zip_bomb_stays_bounded(bomb_3mb, fuzz):
    out = fuzz.run_measured(fuzz.cli_argv("validate", str(bomb_3mb)))
    fuzz.assert_clean_exit(out["rc"], out["stdout"] + out["stderr"], allowed=(1,))
    assert "read budget" in out["stdout"] + out["stderr"]
    assert out["rss_mb"] < fuzz.RSS_LIMIT_MB, out
    assert out["wall_s"] < fuzz.TIME_LIMIT_S, out


@pytest.mark.web
def test_web_upload_of_a_3mb_zip_bomb_is_a_400_report_and_bounded(bomb_3mb, fuzz, tmp_path):
    out = fuzz.run_measured([sys.executable, "-c", WEB_UPLOAD, str(bomb_3mb), "bomb3.zip"],
                            env=_web_env(tmp_path))
    assert out["rc"] == 0, out["stderr"][-3000:]
    result = json.loads(out["stdout"].strip().splitlines()[-1])
    assert result == {"status": 400, "report": True, "budget": True, "server_path": False}
    assert out["rss_mb"] < fuzz.RSS_LIMIT_MB, out
    assert out["wall_s"] < fuzz.TIME_LIMIT_S, out


def test_cli_validate_of_a_huge_png_claim_and_deep_json_stay_bounded(tmp_path, fuzz):
    pkg = fuzz.toy_folder(tmp_path / "deep")
    (pkg / "datapackage.json").write_text('{"resources": ' + "[" * 5_000_000
                                          + "]" * 5_000_000 + "}", encoding="utf-8")
    out = fuzz.run_measured(fuzz.cli_argv("validate", str(pkg)))
    fuzz.assert_clean_exit(out["rc"], out["stdout"] + out["stderr"], allowed=(1,))
    assert "too-deep" in out["stdout"] + out["stderr"] or "levels deep" in out["stderr"]
    assert out["rss_mb"] < fuzz.RSS_LIMIT_MB and out["wall_s"] < fuzz.TIME_LIMIT_S, out


@pytest.mark.slow
@pytest.mark.parametrize("mb", [8.5, 9.8])
def test_cli_and_web_bounded_up_to_10mb(tmp_path, fuzz, mb):
    bomb = fuzz.ratio_bomb_zip(tmp_path / "bomb.zip", mb, seed=int(mb * 10))
    out = fuzz.run_measured(fuzz.cli_argv("validate", str(bomb)))
    fuzz.assert_clean_exit(out["rc"], out["stdout"] + out["stderr"], allowed=(1,))
    assert out["rss_mb"] < fuzz.RSS_LIMIT_MB and out["wall_s"] < fuzz.TIME_LIMIT_S, out
    out = fuzz.run_measured([sys.executable, "-c", WEB_UPLOAD, str(bomb), "bomb.zip"],
                            env=_web_env(tmp_path))
    result = json.loads(out["stdout"].strip().splitlines()[-1])
    assert result["status"] == 400 and result["report"], result
    assert out["rss_mb"] < fuzz.RSS_LIMIT_MB and out["wall_s"] < fuzz.TIME_LIMIT_S, out


@pytest.mark.slow
def test_the_largest_package_under_the_budget_stays_bounded(tmp_path, fuzz):
    # empty cells just under the default budget: the worst case the budget admits
    pkg = fuzz.toy_folder(tmp_path / "edge")
    obs = pkg / "observations.csv"
    header = obs.read_text(encoding="utf-8").splitlines()[0]
    with open(obs, "a", encoding="utf-8") as fh:
        fh.write(("," * header.count(",") + "\n") * 1_000_000)
    out = fuzz.run_measured(fuzz.cli_argv("validate", str(pkg)))
    fuzz.assert_clean_exit(out["rc"], out["stdout"] + out["stderr"], allowed=(1,))
    assert "read budget" not in out["stdout"] + out["stderr"]  # admitted, and parsed
    assert out["rss_mb"] < fuzz.RSS_LIMIT_MB and out["wall_s"] < fuzz.TIME_LIMIT_S, out


@pytest.mark.slow
def test_a_valid_package_near_the_budget_is_admitted_and_bounded(tmp_path, fuzz):
    # a 1.7 MB zip of 560,000 valid observations (83 MB inflated, ~84% of the budget)
    pkg = fuzz.toy_folder(tmp_path / "valid")
    lines = (pkg / "observations.csv").read_text(encoding="utf-8").splitlines()
    row = lines[1].split(",")
    with open(pkg / "observations.csv", "a", encoding="utf-8") as fh:
        for i in range(560_000):
            row[0], row[2] = f"x{i}", ""  # new observationID, event-level (no mediaID)
            fh.write(",".join(row) + "\n")
    z = fuzz.zip_folder(pkg, tmp_path / "valid.zip")
    out = fuzz.run_measured(fuzz.cli_argv("validate", str(z)))
    fuzz.assert_clean_exit(out["rc"], out["stdout"] + out["stderr"], allowed=(0,))
    assert out["rss_mb"] < fuzz.RSS_LIMIT_MB and out["wall_s"] < fuzz.TIME_LIMIT_S, out
