"""Individual identification from microsatellite genotypes (read, harmonise, quality, match)."""

from amurlink.identify.genotypes._harmonise import (
    LabCalibration,
    apply_lab_offsets,
    estimate_lab_offsets,
)
from amurlink.identify.genotypes._link import (
    DNA_REPORT_KEYS,
    PROPOSAL_COLUMNS,
    DnaResults,
    dna_camera_candidates,
    dna_results,
    link_genotypes,
    majority_genotypes,
)
from amurlink.identify.genotypes._match import (
    GenotypeMatcher,
    GenotypeMatchResult,
    match_genotypes,
    mismatch_profile,
    pairwise_mismatches,
    sex_by_sample,
)
from amurlink.identify.genotypes._quality import (
    allele_frequencies,
    consensus_genotypes,
    identity_probabilities,
    locus_summary,
    typing_success,
)
from amurlink.identify.genotypes._read import (
    GenotypeTables,
    read_genotypes,
    validate_genotypes_file,
)
from amurlink.identify.genotypes._simulate import simulate_genotype_samples

__all__ = [
    "DNA_REPORT_KEYS",
    "DnaResults",
    "PROPOSAL_COLUMNS",
    "dna_camera_candidates",
    "dna_results",
    "link_genotypes",
    "majority_genotypes",
    "GenotypeMatchResult",
    "GenotypeMatcher",
    "GenotypeTables",
    "LabCalibration",
    "allele_frequencies",
    "apply_lab_offsets",
    "consensus_genotypes",
    "estimate_lab_offsets",
    "identity_probabilities",
    "locus_summary",
    "match_genotypes",
    "mismatch_profile",
    "pairwise_mismatches",
    "read_genotypes",
    "sex_by_sample",
    "simulate_genotype_samples",
    "typing_success",
    "validate_genotypes_file",
]
