"""Docked panels about the selected node or model: inspector, histograms, lesson, models
list, node help."""
