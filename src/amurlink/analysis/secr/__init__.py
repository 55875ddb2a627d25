"""Spatially explicit capture-recapture (SECR), reproducing R secr 5.5.0."""

from amurlink.analysis.secr.capthist import DETECTORS, CaptureHistory
from amurlink.analysis.secr.detectfn import (
    DETECTFN,
    detection_arrays,
    exponential,
    get_detectfn,
    halfnormal,
    hazard_exponential,
    hazard_halfnormal,
)
from amurlink.analysis.secr.from_dataset import (
    DetectorLayout,
    capthist_from_dataset,
    detector_layout,
)
from amurlink.analysis.secr.io import (
    read_capthist,
    read_captures,
    read_mask,
    read_traps,
    write_capthist,
    write_captures,
    write_traps,
)
from amurlink.analysis.secr.likelihood import LogLikelihood, secr_loglik
from amurlink.analysis.secr.links import (
    back_transformed_interval,
    se_untransform,
    transform,
    untransform,
)
from amurlink.analysis.secr.mask import Mask, make_mask
from amurlink.analysis.secr.model import SECR, fit_secr
from amurlink.analysis.secr.national import JointNationalResult, fit_joint_and_national
from amurlink.analysis.secr.results import SECRResults, SECRSummary
from amurlink.analysis.secr.selection import ModelTable, aic_table, fit_models, model_average

__all__ = [
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
    "capthist_from_dataset",
    "detector_layout",
    "detection_arrays",
    "exponential",
    "fit_joint_and_national",
    "fit_models",
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
    "transform",
    "untransform",
    "write_captures",
    "write_capthist",
    "write_traps",
]
