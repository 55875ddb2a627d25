"""Detection functions with a shape parameter z: HR (1), HHR (15), HVP (19).

Reference: the SECR book's snowshoe hare comparison (``10-detection-model.qmd``, secr 5.2,
buffer 250 m, default mask of 3896 points): log-likelihood HHR -599.68, HVP -600.43 (printed
to 2 decimals), HEX -601.73, HHN -608.07, with 4 parameters for HHR and HVP.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from amurlink.analysis.secr import fit_secr, make_mask, read_capthist
from amurlink.analysis.secr.detectfn import (
    detection_arrays,
    get_detectfn,
    hazard_hazard_rate,
    hazard_rate,
    hazard_variable_power,
)


def test_shapes_by_hand():
    d = np.array([0.0, 10.0, 20.0, 40.0])
    np.testing.assert_allclose(hazard_rate(d[1:], 0.3, 20.0, 4.0),
                               0.3 * (1 - np.exp(-(d[1:] / 20.0) ** -4.0)))
    assert hazard_rate(0.0, 0.3, 20.0, 4.0) == pytest.approx(0.3)
    assert hazard_hazard_rate(20.0, 0.5, 20.0, 3.0) == pytest.approx(0.5 * (1 - np.exp(-1)))
    assert hazard_variable_power(20.0, 0.5, 20.0, 1.5) == pytest.approx(0.5 * np.exp(-1))
    # HVP with z = 2 is HHN with sigma / sqrt(2)
    g, h = detection_arrays(d, "HVP", 0.5, 20.0, z=2.0)
    _, h2 = detection_arrays(d, "HHN", 0.5, 20.0 / np.sqrt(2))
    np.testing.assert_allclose(h, h2)
    g, h = detection_arrays(d, "HR", 0.3, 20.0, z=4.0)
    np.testing.assert_allclose(h, -np.log1p(-g))
    assert get_detectfn(15).name == "HHR" and get_detectfn("hazard rate").code == 1
    with pytest.raises(ValueError, match="needs its third parameter z"):
        detection_arrays(d, "HHR", 0.5, 20.0)


@pytest.mark.reference
@pytest.mark.parametrize(("fn", "loglik"), [("HHR", -599.68), ("HVP", -600.43)])
def test_hare_loglik_matches_the_secr_book(reference_dir, fn, loglik):
    d = reference_dir / "secr" / "hare"
    meta = json.loads((d / "meta.json").read_text())
    ch = read_capthist(d / "traps.csv", d / "captures.csv", detector="multi",
                       n_occasions=next(iter(meta["n_occasions"].values())))
    mask = make_mask(ch, buffer=250)
    assert mask.n_points == 3896
    res = fit_secr(ch, mask, detectfn=fn)
    assert res.npar == 4
    assert list(res.params.index) == ["D", "lambda0", "sigma", "z"]
    assert res.loglik == pytest.approx(loglik, abs=0.005)
    assert res.code == 1
    assert set(res.predict().index) == {"D", "lambda0", "sigma", "z"}


def test_compound_and_annular_functions_nest_the_halfnormal(reference_dir):
    # CHN with z = 1 is HN; ANN / HAN with w -> 0 are HN / HHN (secr codes 3, 6, 17)
    d = np.array([0.0, 10.0, 20.0, 40.0])
    g, _ = detection_arrays(d, "CHN", 0.3, 20.0, z=1.0)
    np.testing.assert_allclose(g, 0.3 * np.exp(-d**2 / 800.0))
    g, _ = detection_arrays(d, "CHN", 0.3, 20.0, z=2.0)
    np.testing.assert_allclose(g, 0.3 * (1 - (1 - np.exp(-d**2 / 800.0)) ** 2))
    _, h = detection_arrays(d, "HAN", 0.5, 20.0, z=15.0)
    np.testing.assert_allclose(h, 0.5 * np.exp(-(d - 15.0) ** 2 / 800.0))
    meta = json.loads((reference_dir / "secr" / "hare" / "meta.json").read_text())
    folder = reference_dir / "secr" / "hare"
    ch = read_capthist(folder / "traps.csv", folder / "captures.csv", detector="multi",
                       n_occasions=next(iter(meta["n_occasions"].values())))
    mask = make_mask(ch, buffer=250)
    from amurlink.analysis.secr import LogLikelihood

    beta = np.array([0.38, -2.72, 4.22])
    hn = LogLikelihood(ch, mask, detectfn="HN")(beta)
    assert LogLikelihood(ch, mask, detectfn="CHN")(np.r_[beta, 0.0]) == pytest.approx(
        hn, abs=1e-9)
    assert LogLikelihood(ch, mask, detectfn="ANN")(np.r_[beta, -30.0]) == pytest.approx(
        hn, abs=1e-6)
    bh = np.array([0.38, -2.77, 4.22])
    assert LogLikelihood(ch, mask, detectfn="HAN")(np.r_[bh, -30.0]) == pytest.approx(
        LogLikelihood(ch, mask, detectfn="HHN")(bh), abs=1e-6)
