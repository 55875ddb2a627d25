"""``LinkStore``: the identity-link log of a package folder, persisted atomically under a lock."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pandas as pd
import pytest

import amurlink.io.camtrap_dp as camtrap_dp_io
from amurlink.dataset import Dataset
from amurlink.exceptions import DataError, LinkConflictError, LinkStoreLockedError
from amurlink.identify.links import (
    LinkStore,
    current_links,
    joint_identities,
    link_history,
)
from amurlink.io import AMURLINK_RESOURCE_KEY, empty_table, read_camtrap_dp, write_camtrap_dp

CN12, CN15, RU23, RU40 = "CN-NTLNP:T012", "CN-NTLNP:T015", "RU-LLNP:T-23", "RU-LLNP:T-40"
T0 = pd.Timestamp("2024-03-01T10:00:00Z")


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def table(name: str, **cols) -> pd.DataFrame:
    empty = empty_table(name)
    frame = pd.DataFrame(cols)
    return pd.concat([empty, frame.astype({c: empty[c].dtype for c in frame.columns})],
                     ignore_index=True)


def make_package(root: Path) -> Path:
    """Two CN and one RU camera, four tigers; T012 and T-23 seen 59 km apart 20 min apart."""
    deployments = table(
        "deployments", deploymentID=["CN-c1", "CN-c2", "RU-r1"],
        latitude=[43.10, 43.12, 43.40], longitude=[130.90, 130.92, 131.50],
        deploymentStart=[ts("2023-01-01")] * 3, deploymentEnd=[ts("2023-12-31")] * 3)
    observations = table(
        "observations", observationID=["o1", "o2", "o3"], deploymentID=["CN-c1", "RU-r1", "CN-c2"],
        eventStart=[ts("2023-03-01T10:00"), ts("2023-03-01T10:20"), ts("2023-03-01T10:30")],
        eventEnd=[ts("2023-03-01T10:01"), ts("2023-03-01T10:21"), ts("2023-03-01T10:31")],
        observationLevel=["event"] * 3, observationType=["animal"] * 3,
        individualID=[CN12, RU23, RU40])
    individuals = table(
        "individuals", individualID=[CN12, CN15, RU23, RU40],
        catalogue=["CN-NTLNP", "CN-NTLNP", "RU-LLNP", "RU-LLNP"],
        scientificName=["Panthera tigris altaica"] * 4)
    ds = Dataset({"deployments": deployments, "media": empty_table("media"),
                  "observations": observations, "individuals": individuals})
    return write_camtrap_dp(ds, root / "joint")


@pytest.fixture()
def store(tmp_path: Path) -> LinkStore:
    return LinkStore(make_package(tmp_path), lock_timeout_s=0)


def links_file(store: LinkStore) -> Path:
    desc = json.loads((store.path / "datapackage.json").read_text())
    (res,) = [r for r in desc["resources"] if r.get(AMURLINK_RESOURCE_KEY) == "identityLinks"]
    return store.path / res["path"]


def proposals(*pairs) -> pd.DataFrame:
    return pd.DataFrame({"subjectA": [a for a, _ in pairs], "subjectB": [b for _, b in pairs],
                         "score": [0.9] * len(pairs)})


def test_a_package_without_links_has_an_empty_log(store):
    assert store.links.empty
    assert store.identities()["subject"].tolist() == [CN12, CN15, RU23, RU40]
    assert store.conflicts().empty


def test_decisions_persist_and_the_package_stays_valid(store):
    res = store.propose(proposals((CN15, RU23), (CN12, RU40)), method="photo", by="matcher",
                        now=T0)
    assert len(res.proposed) == 2
    ev = store.accept(CN15, RU23, reviewer="Anna", side="CN", now=T0)
    assert ev[["subjectA", "subjectB", "status"]].to_numpy().tolist() == [
        [CN15, RU23, "confirmed"]]
    store.reject(link_event_id=res.proposed["linkEventID"].iloc[1], reviewer="Boris",
                 reason="stripes differ", now=T0)
    ds = read_camtrap_dp(store.path)  # validates
    log = ds["identityLinks"]
    assert log["status"].tolist() == ["proposed", "proposed", "confirmed", "rejected"]
    assert log["linkEventID"].iloc[2] == ev["linkEventID"].item()
    pd.testing.assert_frame_equal(store.current(), current_links(log))
    pd.testing.assert_frame_equal(store.identities(),
                                  joint_identities(log, individuals=ds["individuals"]))
    pd.testing.assert_frame_equal(store.history(CN12), link_history(log, CN12))
    again = store.propose(proposals((RU40, CN12)), method="photo", now=T0)
    assert again.proposed.empty and again.skipped["skipReason"].tolist() == ["rejected"]
    assert len(store.links) == 4


def test_conflicts_raise_and_leave_the_file_untouched(store):
    store.accept(CN15, RU23, reviewer="Anna", side="CN", now=T0)
    store.accept(CN15, RU23, reviewer="Boris", side="RU", now=T0)
    before = links_file(store).read_bytes()
    with pytest.raises(LinkConflictError, match="catalogue CN-NTLNP"):
        store.accept(CN12, RU23, reviewer="Anna", side="CN", now=T0)
    assert links_file(store).read_bytes() == before
    store.reject(CN15, RU23, reviewer="Anna", reason="DNA mismatch", now=T0)
    before = links_file(store).read_bytes()
    with pytest.raises(LinkConflictError, match=r"\[spacetime\] CN-NTLNP:T012 and RU-LLNP:T-23"):
        store.accept(CN12, RU23, reviewer="Anna", side="CN", now=T0)
    assert links_file(store).read_bytes() == before
    assert not (store.path / LinkStore.LOCK_NAME).exists()


def test_a_failing_write_leaves_the_old_log_intact(store, monkeypatch):
    store.accept(CN15, RU23, reviewer="Anna", side="CN", now=T0)
    store.accept(CN15, RU23, reviewer="Boris", side="RU", now=T0)
    path = links_file(store)
    before = path.read_bytes()
    files = sorted(p.name for p in store.path.iterdir())

    def broken_write(table, target, *args, **kwargs):
        Path(target).write_text("linkEventID,subj")  # half a file, then the disk fills
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(camtrap_dp_io, "_write_csv", broken_write)
    with pytest.raises(OSError, match="No space left"):
        store.reject(CN15, RU23, reviewer="Boris", reason="second opinion", now=T0)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in store.path.iterdir()) == files  # no temp file, no lock
    assert store.current()["status"].tolist() == ["confirmed"]


def test_a_held_lock_refuses_with_a_clear_message(store):
    lock = store.path / LinkStore.LOCK_NAME
    lock.write_text(json.dumps({"pid": 4242, "host": "field-laptop", "since": "2024-03-01"}))
    with pytest.raises(LinkStoreLockedError) as info:
        store.accept(CN15, RU23, reviewer="Anna", side="CN", now=T0)
    assert isinstance(info.value, BlockingIOError)  # still an OSError for older callers
    msg = str(info.value)
    assert "locked by process 4242 on field-laptop" in msg and "delete" in msg
    assert store.links.empty and lock.exists()  # someone else's lock is left alone
    lock.unlink()
    store.accept(CN15, RU23, reviewer="Anna", side="CN", now=T0)
    assert len(store.links) == 1


def test_concurrent_reviewers_never_lose_each_others_events(tmp_path):
    path = make_package(tmp_path)
    LinkStore(path).propose(proposals((CN15, RU23), (CN12, RU40), (CN12, "S-1"), (RU23, "S-2")),
                            method="photo", now=T0)
    pairs = [(CN15, RU23), (CN12, RU40), (CN12, "S-1"), (RU23, "S-2")]
    errors: list[BaseException] = []

    def review(a: str, b: str) -> None:
        try:
            LinkStore(path, lock_timeout_s=60).reject(a, b, reviewer=f"r{a}", reason="no",
                                                      now=T0)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=review, args=p) for p in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    log = LinkStore(path).links
    assert len(log) == 8 and log["linkEventID"].is_unique
    assert set(current_links(log)["status"]) == {"rejected"}


def test_not_a_package_folder_raises(tmp_path):
    with pytest.raises(DataError, match="no datapackage.json"):
        LinkStore(tmp_path)


def test_the_audit_uses_the_packages_observations(store):
    from amurlink.identify.links import empty_links, review_link
    from amurlink.io import write_table

    forced = empty_links()
    for side in ("CN", "RU"):  # no observations given: nothing stops it here
        forced = review_link(forced, pair=(CN12, RU23), status="confirmed", reviewer="x",
                             side=side, now=T0)
    write_table(store.path, "identityLinks", forced)
    found = store.conflicts()
    assert found[["kind", "subjectA", "subjectB"]].to_numpy().tolist() == [
        ["spacetime", CN12, RU23]]
    assert repr(store) == f"LinkStore({str(store.path)!r})"


def test_tiger_and_leopard_cannot_be_linked(tmp_path):
    """Catalogues that record different species block the link (subspecies count as species)."""
    import shutil

    from amurlink.datasets import example_path
    from amurlink.exceptions import LinkConflictError
    from amurlink.identify.links import LinkStore

    pkg = shutil.copytree(example_path(), tmp_path / "joint")
    store = LinkStore(pkg)
    species_clash = r"\[species\].*Panthera pardus and Panthera tigris"
    with pytest.raises(LinkConflictError, match=species_clash):
        store.accept("CN-NTLNP:L01", "RU-LLNP:T-1", reviewer="me", side="CN")
    before = store.links
    store.accept("CN-NTLNP:L01", "RU-LLNP:L-7", reviewer="me", side="CN")  # both leopards: fine
    assert len(store.links) == len(before) + 1
