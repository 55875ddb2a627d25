"""Flank-pattern photo identification: RootSIFT + faiss + LNBNN + RANSAC (HotSpotter-style).

Needs ``opencv-python-headless`` and ``faiss-cpu``; imported lazily by the functions that
use them. See ``docs/photos.md`` for the pipeline, its parameters and the accuracy study.
"""

from amurlink.identify.photos.crosslink import (
    compare_links,
    link_simulated_catalogues,
    summarise_link_comparison,
)
from amurlink.identify.photos.features import (
    CHIP_LONG_SIDE,
    FLANK_SIDES,
    MAX_KEYPOINTS,
    Features,
    extract_features,
    flank_chip,
    load_image,
    video_frames,
)
from amurlink.identify.photos.matching import (
    CANDIDATE_COLUMNS,
    DUPLICATE_COLUMNS,
    PROPOSAL_COLUMNS,
    draw_match_evidence,
    find_duplicates,
    identify_photos,
    link_catalogues,
)
from amurlink.identify.photos.ranking import (
    DEFAULT_CALIBRATION,
    Calibration,
    DescriptorIndex,
    IndexParams,
)
from amurlink.identify.photos.store import MANIFEST_COLUMNS, PhotoStore

__all__ = [
    "CANDIDATE_COLUMNS",
    "CHIP_LONG_SIDE",
    "DEFAULT_CALIBRATION",
    "DUPLICATE_COLUMNS",
    "FLANK_SIDES",
    "MANIFEST_COLUMNS",
    "MAX_KEYPOINTS",
    "PROPOSAL_COLUMNS",
    "Calibration",
    "DescriptorIndex",
    "Features",
    "IndexParams",
    "PhotoStore",
    "compare_links",
    "draw_match_evidence",
    "extract_features",
    "find_duplicates",
    "flank_chip",
    "identify_photos",
    "link_catalogues",
    "link_simulated_catalogues",
    "load_image",
    "summarise_link_comparison",
    "video_frames",
]
