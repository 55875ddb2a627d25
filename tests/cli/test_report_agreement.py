"""``amurlink report --agreement``: a partner report cut by the agreement's species."""

from __future__ import annotations

from typer.testing import CliRunner

from amurlink.cli import app
from amurlink.datasets import load_example
from amurlink.io import write_camtrap_dp

runner = CliRunner()

AGREEMENT = """[agreement]
provider = "NTLNP"
recipient = "WWF Russia"
species = ["Capreolus pygargus"]
tables = ["deployments", "media", "observations"]
level = "1km"
"""


def _all_text(folder):
    return "".join(p.read_text(encoding="utf-8") for p in folder.rglob("*")
                   if p.suffix in (".html", ".csv"))


def test_agreement_limited_to_roe_deer_shows_no_tiger_or_leopard(tmp_path):
    write_camtrap_dp(load_example(), tmp_path / "joint")
    (tmp_path / "agreement.toml").write_text(AGREEMENT)
    res = runner.invoke(app, ["report", str(tmp_path / "joint"), "-o", str(tmp_path / "plain"),
                              "--audience", "partner", "--no-camtrap"])
    assert res.exit_code == 0, res.output
    assert "Panthera" in _all_text(tmp_path / "plain")  # without the agreement: big cats
    res = runner.invoke(app, ["report", str(tmp_path / "joint"), "-o", str(tmp_path / "cut"),
                              "--agreement", str(tmp_path / "agreement.toml"), "--no-camtrap",
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    assert '"audience": "partner"' in res.stdout
    assert "Panthera" not in _all_text(tmp_path / "cut")


def test_expired_agreement_is_refused_and_writes_nothing(tmp_path):
    write_camtrap_dp(load_example(), tmp_path / "joint")
    (tmp_path / "agreement.toml").write_text(AGREEMENT + "valid_until = 2020-01-01\n")
    res = runner.invoke(app, ["report", str(tmp_path / "joint"), "-o", str(tmp_path / "cut"),
                              "--agreement", str(tmp_path / "agreement.toml")])
    assert res.exit_code == 1 and "expired" in res.output
    assert not (tmp_path / "cut").exists()
