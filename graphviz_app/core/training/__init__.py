"""Optimizer steps: settings and the trainer, the training state across steps, losses,
gradient comparisons between devices and dtypes."""
