"""Readers of partner table formats (CSV, Excel, Wildlife Insights, MegaDetector / SpeciesNet)."""
