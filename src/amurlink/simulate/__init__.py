"""Two-country simulator: landscape, animals, cameras, records, catalogues, DNA, photos."""

from amurlink.simulate._landscape import Landscape, make_landscape, read_border_geometry
from amurlink.simulate._population import crossings_from_path, simulate_animals, simulate_paths
from amurlink.simulate._scenario import SCENARIOS, Scenario, SpeciesParams, get_scenario
from amurlink.simulate._secr import expected_detections, secr_inputs
from amurlink.simulate._study import STEPS, SimulatedStudy, simulate_study
from amurlink.simulate._survey import Survey, design_survey
from amurlink.simulate._write import RU_GK_CRS, write_study
from amurlink.simulate.corridors import recover_corridors, simulate_corridors, write_corridor_layers

__all__ = [
    "RU_GK_CRS",
    "SCENARIOS",
    "STEPS",
    "Landscape",
    "Scenario",
    "SimulatedStudy",
    "SpeciesParams",
    "Survey",
    "crossings_from_path",
    "design_survey",
    "expected_detections",
    "get_scenario",
    "make_landscape",
    "read_border_geometry",
    "recover_corridors",
    "secr_inputs",
    "simulate_animals",
    "simulate_corridors",
    "simulate_paths",
    "simulate_study",
    "write_corridor_layers",
    "write_study",
]
