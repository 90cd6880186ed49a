"""The Gradient health dock: Run > Check gradient health, the report, jumps to the
first NaN / Inf in the backward stepper."""
