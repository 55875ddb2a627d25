"""``amurlink links list|accept|reject|history|identities|conflicts``."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from amurlink.cli import app
from amurlink.dataset import Dataset
from amurlink.exceptions import LinkConflictError
from amurlink.identify.links import (
    LinkStore,
    current_links,
    find_conflicts,
    joint_identities,
    link_history,
)
from amurlink.io import empty_table, read_camtrap_dp, write_camtrap_dp

runner = CliRunner()
CN12, CN15, RU23, RU40 = "CN-NTLNP:T012", "CN-NTLNP:T015", "RU-LLNP:T-23", "RU-LLNP:T-40"
T0 = pd.Timestamp("2024-03-01T10:00:00Z")


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def table(name: str, **cols) -> pd.DataFrame:
    empty = empty_table(name)
    frame = pd.DataFrame(cols)
    return pd.concat([empty, frame.astype({c: empty[c].dtype for c in frame.columns})],
                     ignore_index=True)


@pytest.fixture()
def joint(tmp_path: Path) -> Path:
    """Four tigers; T012 (CN-c1) and T-23 (RU-r1) are seen 59 km apart 20 min apart."""
    ds = Dataset({
        "deployments": table(
            "deployments", deploymentID=["CN-c1", "RU-r1"], latitude=[43.10, 43.40],
            longitude=[130.90, 131.50], deploymentStart=[ts("2023-01-01")] * 2,
            deploymentEnd=[ts("2023-12-31")] * 2),
        "media": empty_table("media"),
        "observations": table(
            "observations", observationID=["o1", "o2"], deploymentID=["CN-c1", "RU-r1"],
            eventStart=[ts("2023-03-01T10:00"), ts("2023-03-01T10:20")],
            eventEnd=[ts("2023-03-01T10:01"), ts("2023-03-01T10:21")],
            observationLevel=["event"] * 2, observationType=["animal"] * 2,
            individualID=[CN12, RU23]),
        "individuals": table(
            "individuals", individualID=[CN12, CN15, RU23, RU40],
            catalogue=["CN-NTLNP", "CN-NTLNP", "RU-LLNP", "RU-LLNP"],
            scientificName=["Panthera pardus orientalis"] * 4),
    })
    path = write_camtrap_dp(ds, tmp_path / "joint")
    LinkStore(path).propose(
        pd.DataFrame({"subjectA": [CN15, CN12, RU40], "subjectB": [RU23, RU23, "S-1"],
                      "score": [0.91, 0.88, 0.5]}),
        method="photo", by="photo-matcher", now=T0)
    return path


def invoke(*args: str):
    return runner.invoke(app, ["links", *map(str, args)])


def plain(frame: pd.DataFrame) -> list[dict]:
    """The frame as the JSON a client reads (written independently of the CLI's helper)."""
    rows = []
    for rec in frame.to_dict(orient="records"):
        rows.append({k: (None if v is None or (not isinstance(v, str) and pd.isna(v))
                         else v.isoformat() if isinstance(v, pd.Timestamp) else v)
                     for k, v in rec.items()})
    return json.loads(json.dumps(rows))


def log_of(path: Path) -> pd.DataFrame:
    return read_camtrap_dp(path)["identityLinks"]


def accept_both(joint: Path, a: str, b: str, *extra: str) -> None:
    """A reviewer of each side accepts (the two-party rule)."""
    for side, who in (("CN", "Li"), ("RU", "Anna")):
        result = invoke("accept", joint, a, b, "-r", who, "--side", side, *extra)
        assert result.exit_code == 0, result.output


def test_list_json_equals_the_library(joint):
    result = invoke("list", joint, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == plain(current_links(log_of(joint)))
    proposed = invoke("list", joint, "--status", "confirmed", "-f", "json")
    assert json.loads(proposed.stdout) == []


def test_list_text_shows_each_pair(joint):
    result = invoke("list", joint)
    assert result.exit_code == 0
    assert "CN-NTLNP:T015" in result.stdout and "proposed" in result.stdout


def test_accept_records_the_decision_and_prints_the_event(joint):
    result = invoke("accept", joint, RU23, CN15, "--reviewer", "Anna", "--side", "ru",
                    "--format", "json")
    assert result.exit_code == 0, result.output
    log = log_of(joint)
    payload = json.loads(result.stdout)
    assert payload == {**plain(log.iloc[[-1]])[0], "pairStatus": "proposed", "awaiting": "CN"}
    assert log["status"].iloc[-1] == "confirmed" and log["reviewer"].iloc[-1] == "Anna [RU]"
    # one side's acceptance joins nothing: the pair awaits the partner
    assert invoke("identities", joint, "--linked").stdout.strip() == "no identities"
    listed = [r for r in json.loads(invoke("list", joint, "-f", "json").stdout)
              if r["subjectA"] == CN15]
    assert [(r["status"], r["acceptedBy"], r["awaiting"]) for r in listed] == [
        ("proposed", "RU", "CN")]
    result = invoke("accept", joint, CN15, RU23, "-r", "Li", "--side", "CN", "-f", "json")
    assert json.loads(result.stdout)["pairStatus"] == "confirmed"
    text = invoke("identities", joint, "--linked")
    assert text.exit_code == 0
    assert f"{CN15} = {RU23}" in text.stdout


def test_accept_by_link_event_id(joint):
    event = log_of(joint)["linkEventID"].iloc[0]
    result = invoke("accept", joint, event, "--reviewer", "Anna", "--side", "RU")
    assert result.exit_code == 0, result.output
    assert f"confirmed: {CN15} = {RU23}" in result.stdout
    assert "awaiting the partner (CN)" in result.stdout
    unknown = invoke("accept", joint, "L-0000", "--reviewer", "Anna", "--side", "RU")
    assert unknown.exit_code == 1 and "no link event 'L-0000'" in unknown.stderr


def test_a_conflict_exits_1_with_a_clear_message_and_changes_nothing(joint):
    before = log_of(joint)
    result = invoke("accept", joint, CN12, RU23, "--reviewer", "Anna", "--side", "RU")
    assert result.exit_code == 1
    assert f"cannot confirm {CN12} = {RU23}" in result.stderr
    assert "[spacetime]" in result.stderr and "fix:" in result.stderr
    assert "Traceback" not in result.output
    pd.testing.assert_frame_equal(log_of(joint), before)
    relaxed = invoke("accept", joint, CN12, RU23, "--reviewer", "Anna", "--side", "RU",
                     "--tolerance-km", "80")
    assert relaxed.exit_code == 0, relaxed.output


def test_catalogue_conflict_after_a_confirmed_link(joint):
    accept_both(joint, CN15, RU23)
    result = invoke("accept", joint, CN12, RU23, "-r", "Anna", "--side", "RU",
                    "--tolerance-km", "80")
    assert result.exit_code == 1
    assert "[catalogue] CN-NTLNP:T012 and CN-NTLNP:T015" in result.stderr


def test_debug_shows_the_exception(joint):
    result = runner.invoke(app, ["--debug", "links", "accept", str(joint), CN12, RU23, "-r", "A",
                                 "--side", "CN"])
    assert result.exit_code != 0 and isinstance(result.exception, LinkConflictError)


def test_reject_needs_a_reason_and_splits_a_confirmed_link(joint):
    accept_both(joint, CN15, RU23)
    missing = invoke("reject", joint, CN15, RU23, "--reviewer", "Boris", "--side", "RU")
    assert missing.exit_code == 2
    no_side = invoke("reject", joint, CN15, RU23, "--reviewer", "Boris", "--reason", "no")
    assert no_side.exit_code == 2 and "--side" in no_side.stderr
    result = invoke("reject", joint, CN15, RU23, "--reviewer", "Boris", "--reason", "DNA differs",
                    "--side", "RU", "-f", "json")
    assert result.exit_code == 0, result.output
    event = json.loads(result.stdout)
    assert event["status"] == "rejected" and event["reason"] == "DNA differs"
    ids = joint_identities(log_of(joint))
    assert ids.groupby("jointID").size().max() == 1


def test_history_json_equals_the_library_and_shows_the_split(joint):
    accept_both(joint, CN15, RU23)
    invoke("reject", joint, CN15, RU23, "-r", "Boris", "--side", "CN", "--reason", "DNA differs")
    result = invoke("history", joint, RU23, "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload == plain(link_history(log_of(joint), RU23))
    assert [(e["side"], e["pairStatus"], e["effect"]) for e in payload] == [
        (None, "proposed", None), (None, "proposed", None), ("CN", "awaiting", None),
        ("RU", "confirmed", "merge"), ("CN", "rejected", "split")]
    text = invoke("history", joint, RU23)
    assert "split" in text.stdout and "DNA differs" in text.stdout
    unknown = invoke("history", joint, "CN-NTLNP:T999")
    assert unknown.exit_code == 1 and "no link mentions" in unknown.stderr


def test_identities_json_equals_the_library(joint):
    result = invoke("identities", joint, "--format", "json")
    assert result.exit_code == 0, result.output
    ds = read_camtrap_dp(joint)
    expected = joint_identities(ds["identityLinks"], individuals=ds["individuals"])
    assert json.loads(result.stdout) == plain(expected)
    text = invoke("identities", joint)
    assert text.stdout.count("J-") == len(expected)


def test_rejecting_a_pair_still_joined_prints_a_warning(joint):
    assert invoke("accept", joint, RU40, "S-1", "-r", "Anna", "--side", "RU").exit_code == 0
    assert invoke("accept", joint, "S-1", CN15, "-r", "Li", "--side", "CN").exit_code == 0
    result = invoke("reject", joint, CN15, RU40, "-r", "Boris", "--side", "RU",
                    "--reason", "stripes differ")
    assert result.exit_code == 0, result.output
    assert "warning:" in result.stderr and "still one joint identity" in result.stderr
    assert "rejected: CN-NTLNP:T015 = RU-LLNP:T-40" in result.stdout


def test_conflicts_audit_exit_codes(joint):
    clean = invoke("conflicts", joint, "-f", "json")
    assert clean.exit_code == 0 and json.loads(clean.stdout) == []
    accept_both(joint, CN12, RU23, "--tolerance-km", "80")
    found = invoke("conflicts", joint, "--format", "json")
    assert found.exit_code == 1
    ds = read_camtrap_dp(joint)
    assert json.loads(found.stdout) == plain(find_conflicts(
        ds["identityLinks"], individuals=ds["individuals"], observations=ds.observations,
        deployments=ds.deployments))
    assert "[spacetime]" in invoke("conflicts", joint).stdout


def test_usage_errors_exit_2(joint, tmp_path):
    assert invoke("list", tmp_path / "missing").exit_code == 2
    assert invoke("list", joint, "--status", "maybe").exit_code == 2
    assert invoke("accept", joint, CN15, RU23, "--side", "CN").exit_code == 2  # no --reviewer
    no_side = invoke("accept", joint, CN15, RU23, "-r", "Anna")
    assert no_side.exit_code == 2 and "--side CN or --side RU" in no_side.stderr
    assert invoke("nope").exit_code == 2


def test_a_folder_without_a_package_exits_1(tmp_path):
    result = invoke("list", tmp_path)
    assert result.exit_code == 1 and "no datapackage.json" in result.stderr


def test_a_held_lock_exits_1_with_the_holder(joint, monkeypatch):
    (joint / LinkStore.LOCK_NAME).write_text('{"pid": 7, "host": "vladivostok-pc"}')
    monkeypatch.setattr("amurlink.cli.links.LinkStore",
                        functools.partial(LinkStore, lock_timeout_s=0))
    result = invoke("accept", joint, CN15, RU23, "-r", "Anna", "--side", "RU")
    assert result.exit_code == 1
    assert "locked by process 7 on vladivostok-pc" in result.stderr


def test_a_side_outside_the_pair_exits_1(joint):
    result = invoke("accept", joint, CN15, RU23, "-r", "Kim", "--side", "KR")
    assert result.exit_code == 1 and "not for KR" in result.stderr


def test_the_study_config_can_turn_the_two_party_rule_off(joint):
    (joint.parent / "amurlink.toml").write_text("[links]\ntwo_party = false\n")
    result = invoke("accept", joint, CN15, RU23, "-r", "Anna", "--side", "RU", "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pairStatus"] == "confirmed"
    assert f"{CN15} = {RU23}" in invoke("identities", joint, "--linked").stdout
    # the same log under a config with the rule on: the pair awaits the partner
    strict = joint.parent / "strict.toml"
    strict.write_text("[links]\ntwo_party = true\n")
    listed = json.loads(invoke("list", joint, "--config", strict, "-f", "json").stdout)
    pair = [r for r in listed if r["subjectA"] == CN15][0]
    assert (pair["status"], pair["awaiting"]) == ("proposed", "CN")
