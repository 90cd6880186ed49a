"""Finite differences against backward, in float64 and float32: the check, its results and
what they mean in words."""
