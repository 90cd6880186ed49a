"""Gradient health: where gradients go wrong in one recorded backward (first Inf and
NaN, parameters cut off, vanishing and exploding module gradients, dead ReLUs)."""
