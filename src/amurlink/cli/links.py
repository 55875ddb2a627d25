"""``amurlink links``: review identity links and joint identities without the web platform."""

from __future__ import annotations

import enum
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import typer

from amurlink.cli import app
from amurlink.cli._common import (
    FORMAT_OPTION,
    OutputFormat,
    emit_json,
    handle_errors,
    usage_error,
)
from amurlink.exceptions import AmurlinkWarning
from amurlink.identify.links import ConflictRule, LinkStore

__all__ = ["links_app", "records"]

links_app = typer.Typer(
    name="links",
    help="Review identity links between national IDs (and DNA samples): list, accept, reject, "
    "history, identities, conflicts.",
    no_args_is_help=True,
)
app.add_typer(links_app, name="links")

T = TypeVar("T")


class Status(enum.StrEnum):
    proposed = "proposed"
    confirmed = "confirmed"
    rejected = "rejected"


_JOINT_DIR = typer.Argument(..., exists=True, file_okay=False, dir_okay=True, resolve_path=True,
                            help="Joint package folder (holds datapackage.json).")
_STATUS = typer.Option(None, "--status", "-s", help="Only links in this state.")
_LINKED = typer.Option(False, "--linked", help="Only identities with two or more members.")
_REASON = typer.Option(None, "--reason", help="Why (required to overturn a decision).")
_REJECT_REASON = typer.Option(..., "--reason", help="Why the two are different animals.")
_SUBJECT = typer.Argument(..., help="National ID, sample ID or joint ID (J-...).")


_SUBJECT_A = typer.Argument(..., help="First subject ID (e.g. CN-NTLNP:T012), or a link event ID "
                            "(L-...) when SUBJECT_B is left out.")
_SUBJECT_B = typer.Argument(None, help="Second subject ID (e.g. RU-LLNP:T-23).")
_REVIEWER = typer.Option(..., "--reviewer", "-r", help="Your name, recorded with the decision.")
_SIDE = typer.Option(None, "--side", help="The country you review for (CN or RU; the study's "
                     "country codes). Required with every decision: under the two-party rule "
                     "a cross-border link is confirmed once a reviewer of each side accepted.")
_CONFIG = typer.Option(None, "--config", exists=True, dir_okay=False, resolve_path=True,
                       help="amurlink.toml ([links] two_party; default: in JOINT_DIR or above).")
_WINDOW = typer.Option(60.0, "--window-min", min=0.001,
                       help="Largest time between two detections compared, in minutes.")
_SPEED = typer.Option(10.0, "--max-speed-kmh", min=0.0,
                      help="Fastest plausible sustained travel, in km/h.")
_TOLERANCE = typer.Option(5.0, "--tolerance-km", min=0.0,
                          help="Distance always allowed between detections, in km.")

_LIST_COLUMNS = ["linkEventID", "subjectA", "subjectB", "method", "score", "status", "awaiting",
                 "reviewer", "timestamp"]
_HISTORY_COLUMNS = ["timestamp", "linkEventID", "subjectA", "subjectB", "method", "status",
                    "side", "reviewer", "pairStatus", "effect", "reason"]


def _two_party(joint_dir: Path, config: Path | None) -> bool:
    """``[links] two_party`` of ``config`` or of the amurlink.toml in JOINT_DIR or above."""
    from amurlink.config import CONFIG_FILENAME, load_config

    path = config
    if path is None:
        for folder in (joint_dir, joint_dir.parent):
            if (folder / CONFIG_FILENAME).is_file():
                path = folder / CONFIG_FILENAME
                break
    if path is None:
        return True
    links = getattr(load_config(path), "links", None)
    return True if links is None else bool(links.two_party)


def _store(joint_dir: Path, config: Path | None, rule: ConflictRule | None = None) -> LinkStore:
    return LinkStore(joint_dir, rule=rule, two_party=_two_party(joint_dir, config))


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as JSON-ready dicts (missing values as None)."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _table(frame: pd.DataFrame, columns: list[str], empty: str) -> str:
    if not len(frame):
        return empty
    shown = frame[columns].astype(object).where(frame[columns].notna(), "")
    if "timestamp" in shown.columns:
        shown["timestamp"] = [t.strftime("%Y-%m-%d %H:%M") if t != "" else ""
                              for t in shown["timestamp"]]
    return shown.to_string(index=False)


def _run(call: Callable[[], T]) -> T:
    """Call the library, echoing amurlink warnings on stderr instead of raising them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AmurlinkWarning)
        result = call()
    for w in caught:
        if issubclass(w.category, AmurlinkWarning):
            typer.secho(f"warning: {w.message}", err=True, fg=typer.colors.YELLOW)
        else:  # pragma: no cover - foreign warnings keep their normal route
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result


def _rule(window_min: float, max_speed_kmh: float, tolerance_km: float) -> ConflictRule:
    return ConflictRule(window=pd.Timedelta(minutes=window_min), max_speed_kmh=max_speed_kmh,
                        tolerance_km=tolerance_km)


@links_app.command("list")
def list_links(
    joint_dir: Path = _JOINT_DIR,
    status: Status | None = _STATUS,
    config: Path | None = _CONFIG,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """List every linked pair with its current status (a cross-border pair accepted by one side
    shows as proposed, awaiting the other)."""
    with handle_errors():
        frame = _store(joint_dir, config).current(
            status=None if status is None else status.value)
    if fmt is OutputFormat.json:
        emit_json(records(frame))
    else:
        typer.echo(_table(frame, _LIST_COLUMNS, "no links"))


def _review(
    joint_dir: Path, a: str, b: str | None, *, status: str, reviewer: str, reason: str | None,
    side: str | None, config: Path | None, rule: ConflictRule | None, fmt: OutputFormat,
) -> None:
    if side is None or not side.strip():
        raise usage_error("name the side you review for: --side CN or --side RU (under the "
                          "two-party rule each side's reviewer accepts a cross-border link)")
    side = side.strip().upper()
    with handle_errors():
        store = _store(joint_dir, config, rule)
        pair, event = ((a, b), None) if b is not None else (None, a)
        frame = _run(lambda: store.review(status=status, reviewer=reviewer, pair=pair,
                                          link_event_id=event, reason=reason, side=side))
        cur = store.current()
        now = cur[(cur["subjectA"] == frame["subjectA"].iloc[0])
                  & (cur["subjectB"] == frame["subjectB"].iloc[0])].iloc[0]
    awaiting = now["awaiting"] if isinstance(now["awaiting"], str) else None
    if fmt is OutputFormat.json:
        emit_json({**records(frame)[0], "pairStatus": now["status"], "awaiting": awaiting})
    else:
        row = frame.iloc[0]
        state = f"; awaiting the partner ({awaiting})" if awaiting else ""
        typer.echo(f"{row['status']}: {row['subjectA']} = {row['subjectB']} "
                   f"(event {row['linkEventID']}, by {row['reviewer']}){state}")


@links_app.command("accept")
def accept(
    joint_dir: Path = _JOINT_DIR,
    subject_a: str = _SUBJECT_A,
    subject_b: str | None = _SUBJECT_B,
    reviewer: str = _REVIEWER,
    side: str | None = _SIDE,
    reason: str | None = _REASON,
    window_min: float = _WINDOW,
    max_speed_kmh: float = _SPEED,
    tolerance_km: float = _TOLERANCE,
    config: Path | None = _CONFIG,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Accept a link for your side; a cross-border link is confirmed once both sides accepted.

    Refused (exit 1) when the joined identity could not be one animal."""
    rule = _rule(window_min, max_speed_kmh, tolerance_km)
    _review(joint_dir, subject_a, subject_b, status="confirmed", reviewer=reviewer,
            reason=reason, side=side, config=config, rule=rule, fmt=fmt)


@links_app.command("reject")
def reject(
    joint_dir: Path = _JOINT_DIR,
    subject_a: str = _SUBJECT_A,
    subject_b: str | None = _SUBJECT_B,
    reviewer: str = _REVIEWER,
    side: str | None = _SIDE,
    reason: str = _REJECT_REASON,
    config: Path | None = _CONFIG,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Reject a link for your side (either side's rejection rejects it, splitting a confirmed
    one); it is never proposed again silently."""
    _review(joint_dir, subject_a, subject_b, status="rejected", reviewer=reviewer,
            reason=reason, side=side, config=config, rule=None, fmt=fmt)


@links_app.command("history")
def history(
    joint_dir: Path = _JOINT_DIR,
    subject: str = _SUBJECT,
    config: Path | None = _CONFIG,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Every decision about a subject or a joint identity, oldest first, with each side's
    acceptance, merges and splits."""
    with handle_errors():
        frame = _store(joint_dir, config).history(subject)
    if fmt is OutputFormat.json:
        emit_json(records(frame))
    else:
        typer.echo(_table(frame, _HISTORY_COLUMNS, f"no link events about {subject}"))


@links_app.command("identities")
def identities(
    joint_dir: Path = _JOINT_DIR,
    linked: bool = _LINKED,
    config: Path | None = _CONFIG,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Joint identities: each national ID and sample with its joint ID."""
    with handle_errors():
        frame = _store(joint_dir, config).identities()
    if linked:
        frame = frame[(frame["individualCount"] + frame["sampleCount"]) > 1].reset_index(drop=True)
    if fmt is OutputFormat.json:
        emit_json(records(frame))
        return
    if not len(frame):
        typer.echo("no identities")
        return
    one = frame.drop_duplicates("jointID")
    for jid, members, n_ind, n_smp in one[["jointID", "members", "individualCount",
                                           "sampleCount"]].itertuples(index=False, name=None):
        extra = f"  (+{n_smp} sample{'s' if n_smp != 1 else ''})" if n_ind and n_smp else ""
        typer.echo(f"{jid}  {members}{extra}")


@links_app.command("conflicts")
def conflicts(
    joint_dir: Path = _JOINT_DIR,
    window_min: float = _WINDOW,
    max_speed_kmh: float = _SPEED,
    tolerance_km: float = _TOLERANCE,
    config: Path | None = _CONFIG,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Audit the current joint identities for conflicts (exit 1 when any is found)."""
    with handle_errors():
        frame = _store(joint_dir, config, _rule(window_min, max_speed_kmh, tolerance_km)
                       ).conflicts()
    if fmt is OutputFormat.json:
        emit_json(records(frame))
    elif not len(frame):
        typer.echo("no conflicts")
    else:
        for jid, kind, a, b, detail in frame.itertuples(index=False, name=None):
            typer.echo(f"{jid} [{kind}] {a} and {b}: {detail}")
    if len(frame):
        raise typer.Exit(1)
