"""Power: secrdesign's two-survey z-test and the log-linear trend test, checked by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from amurlink.design.power import (
    annual_change_for,
    power_two_surveys,
    ratio_interval,
    simulate_trend_power,
    simulate_two_survey_power,
    trend_power,
    years_to_detect,
)
from amurlink.exceptions import DataError


def test_two_survey_power_closed_form_and_limits():
    # no change: the two-sided test rejects with probability alpha
    assert power_two_surveys(1.0, 0.2) == pytest.approx(0.05)
    assert power_two_surveys(1.0, 0.2, test="decrease") == pytest.approx(0.05)
    # by hand: effect log(0.5) / sqrt(2 log(1 + 0.2^2))
    z = math.log(0.5) / math.sqrt(2 * math.log(1.04))
    want = stats.norm.cdf(z - 1.959963984540054) + stats.norm.cdf(-z - 1.959963984540054)
    assert power_two_surveys(0.5, 0.2) == pytest.approx(want, rel=1e-12)
    # more precision, more power; vectorised over the ratio
    p = power_two_surveys(np.array([0.6, 0.8]), 0.1)
    assert p[0] > p[1] > power_two_surveys(0.8, 0.2)
    lo, hi = ratio_interval(0.8, 0.2)
    assert lo < 0.8 < hi and math.log(hi / 0.8) == pytest.approx(math.log(0.8 / lo))


@pytest.mark.parametrize(("ratio", "rse", "test", "adjust"),
                         [(0.7, 0.15, "two.sided", False), (0.7, 0.15, "decrease", True),
                          (1.5, 0.25, "increase", True)])
def test_two_survey_power_by_simulation(ratio, rse, test, adjust):
    analytic = power_two_surveys(ratio, rse, test=test, adjust_rse=adjust)
    sim = simulate_two_survey_power(ratio, rse, test=test, adjust_rse=adjust, nrepl=200_000,
                                    seed=3)
    se = math.sqrt(analytic * (1 - analytic) / 200_000)
    assert sim == pytest.approx(analytic, abs=4 * se)


def test_trend_power_by_simulation_and_years_needed():
    r = annual_change_for(2.0, 12)  # Global Tiger Recovery Program: double in 12 years
    assert (1 + r) ** 12 == pytest.approx(2.0)
    for years, cv in ((5, 0.2), (8, 0.25), (12, 0.3)):
        tp = trend_power(years, r, cv)
        sim = simulate_trend_power(years, r, cv, nrepl=40_000, seed=years)
        se = math.sqrt(tp.power * (1 - tp.power) / 40_000)
        assert sim == pytest.approx(tp.power, abs=4 * se)
    n = years_to_detect(r, 0.2)
    assert trend_power(n, r, 0.2).power >= 0.8 > trend_power(n - 1, r, 0.2).power
    # the simulation agrees that n years reach 80 % power
    assert simulate_trend_power(n, r, 0.2, nrepl=40_000, seed=1) > 0.78
    assert years_to_detect(r, 0.4) > n
    assert years_to_detect(0.0, 0.2, max_years=30) is None


def test_power_errors():
    with pytest.raises(DataError):
        power_two_surveys(0.5, 0.0)
    with pytest.raises(DataError):
        power_two_surveys(-1, 0.2)
    with pytest.raises(DataError):
        trend_power(2, 0.05, 0.2)
    with pytest.raises(DataError):
        power_two_surveys(0.5, 0.2, test="less")
