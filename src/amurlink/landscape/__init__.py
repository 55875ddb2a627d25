"""Landscape connectivity: rasters, circuit theory (Circuitscape's modes), cost distance."""

from amurlink.landscape.circuit import CircuitGraph, network_graph, raster_graph
from amurlink.landscape.grid import Grid, read_grid, write_grid

__all__ = ["CircuitGraph", "Grid", "network_graph", "raster_graph", "read_grid", "write_grid"]
