"""Spatially explicit capture-recapture (SECR), reproducing R secr 5.5.0.

The names below are imported lazily (on first use), so that importing this package (and
the ``amurlink secr`` command) does not load numpy/pandas/scipy until a fit needs them.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "AREA_DETECTORS": "amurlink.analysis.secr.capthist",
    "CaptureHistory": "amurlink.analysis.secr.capthist",
    "DETECTFN": "amurlink.analysis.secr.detectfn",
    "DETECTORS": "amurlink.analysis.secr.capthist",
    "DetectorLayout": "amurlink.analysis.secr.from_dataset",
    "JointNationalResult": "amurlink.analysis.secr.national",
    "LogLikelihood": "amurlink.analysis.secr.likelihood",
    "Mask": "amurlink.analysis.secr.mask",
    "ModelTable": "amurlink.analysis.secr.selection",
    "SECR": "amurlink.analysis.secr.model",
    "SECRResults": "amurlink.analysis.secr.results",
    "SECRSummary": "amurlink.analysis.secr.results",
    "aic_table": "amurlink.analysis.secr.selection",
    "back_transformed_interval": "amurlink.analysis.secr.links",
    "capthist_camera_dna": "amurlink.analysis.secr.from_dataset",
    "capthists_camera_dna_search": "amurlink.analysis.secr.from_dataset",
    "dna_assignments": "amurlink.analysis.secr.from_dataset",
    "capthist_from_dataset": "amurlink.analysis.secr.from_dataset",
    "detection_arrays": "amurlink.analysis.secr.detectfn",
    "detector_layout": "amurlink.analysis.secr.from_dataset",
    "exponential": "amurlink.analysis.secr.detectfn",
    "fit_joint_and_national": "amurlink.analysis.secr.national",
    "fit_models_joint_and_national": "amurlink.analysis.secr.national",
    "fit_models": "amurlink.analysis.secr.selection",
    "fit_secr": "amurlink.analysis.secr.model",
    "get_detectfn": "amurlink.analysis.secr.detectfn",
    "halfnormal": "amurlink.analysis.secr.detectfn",
    "hazard_exponential": "amurlink.analysis.secr.detectfn",
    "hazard_halfnormal": "amurlink.analysis.secr.detectfn",
    "make_mask": "amurlink.analysis.secr.mask",
    "model_average": "amurlink.analysis.secr.selection",
    "read_capthist": "amurlink.analysis.secr.io",
    "read_captures": "amurlink.analysis.secr.io",
    "read_mask": "amurlink.analysis.secr.io",
    "read_traps": "amurlink.analysis.secr.io",
    "se_untransform": "amurlink.analysis.secr.links",
    "secr_loglik": "amurlink.analysis.secr.likelihood",
    "simulate_area_capthist": "amurlink.analysis.secr.area",
    "transform": "amurlink.analysis.secr.links",
    "untransform": "amurlink.analysis.secr.links",
    "write_capthist": "amurlink.analysis.secr.io",
    "write_captures": "amurlink.analysis.secr.io",
    "write_traps": "amurlink.analysis.secr.io",
}


__all__ = [
    "AREA_DETECTORS",
    "CaptureHistory",
    "DETECTFN",
    "DETECTORS",
    "DetectorLayout",
    "JointNationalResult",
    "LogLikelihood",
    "Mask",
    "ModelTable",
    "SECR",
    "SECRResults",
    "SECRSummary",
    "aic_table",
    "back_transformed_interval",
    "capthist_camera_dna",
    "capthists_camera_dna_search",
    "dna_assignments",
    "capthist_from_dataset",
    "detector_layout",
    "detection_arrays",
    "exponential",
    "fit_joint_and_national",
    "fit_models",
    "fit_models_joint_and_national",
    "fit_secr",
    "get_detectfn",
    "halfnormal",
    "hazard_exponential",
    "hazard_halfnormal",
    "make_mask",
    "model_average",
    "read_capthist",
    "read_captures",
    "read_mask",
    "read_traps",
    "se_untransform",
    "secr_loglik",
    "simulate_area_capthist",
    "transform",
    "untransform",
    "write_captures",
    "write_capthist",
    "write_traps",
]


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
