"""Camera clocks to UTC: offset at set-up, rule changes, clock shifts, date-only noon."""

from __future__ import annotations

import pandas as pd

from amurlink.core.time import (
    apply_clock_shifts,
    local_to_utc,
    parse_clock_shift,
    parse_local,
    spans_rule_change,
)


def test_vladivostok_offset_at_setup_survives_the_2014_rule_change():
    t = pd.Series(pd.to_datetime(["2014-09-15 22:30", "2014-11-20 12:00"]))
    ref = pd.Series(pd.to_datetime(["2014-09-01 12:00"] * 2))
    z = pd.Series(["Asia/Vladivostok"] * 2)
    got = local_to_utc(t, zones=z, reference=ref)
    assert got.tolist() == [pd.Timestamp("2014-09-15T11:30Z"), pd.Timestamp("2014-11-20T01:00Z")]
    civil = local_to_utc(t, zones=z)  # the ordinary conversion would say 02:00
    assert civil.iloc[1] == pd.Timestamp("2014-11-20T02:00Z")


def test_rule_change_detected_only_inside_the_span():
    z = pd.Series(["Asia/Vladivostok", "Asia/Vladivostok", "Asia/Shanghai"])
    s = pd.Series(pd.to_datetime(["2014-09-01", "2014-11-01", "2014-09-01"], utc=True))
    e = pd.Series(pd.to_datetime(["2014-12-01", "2015-02-01", "2014-12-01"], utc=True))
    got = spans_rule_change(z, s, e)
    assert got.iloc[0] == pd.Timestamp("2014-10-25T15:00Z")
    assert got.iloc[1:].isna().all()


def test_date_only_means_noon_and_problem_days_span_whole_days():
    noon, bad = parse_local(["02/04/2009", "", "31/02/2009"], fmt="%d/%m/%Y")
    assert noon.iloc[0] == pd.Timestamp("2009-04-02 12:00") and bad.tolist() == [False, False, True]
    start, _ = parse_local(["12/05/2009"], fmt="%d/%m/%Y", date_only="start")
    end, _ = parse_local(["17/05/2009"], fmt="%d/%m/%Y", date_only="end")
    assert start.iloc[0] == pd.Timestamp("2009-05-12") and end.iloc[0] == pd.Timestamp("2009-05-18")


def test_camtrapr_time_shift_table_amounts():
    t = pd.Series(pd.to_datetime(["2010-04-21 00:40", "2009-04-21 00:40"]))
    shifts = {"StationA": parse_clock_shift("1:0:0 0:0:0", "-"),
              "StationB": parse_clock_shift("0:0:0 12:0:0", "+")}
    got, shifted = apply_clock_shifts(t, pd.Series(["StationA", "StationB"]), shifts)
    assert got.tolist() == [pd.Timestamp("2009-04-21 00:40"), pd.Timestamp("2009-04-21 12:40")]
    assert shifted.all()
