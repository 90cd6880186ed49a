"""Trains for two steps, then leaves with sys.exit(0)."""

import sys

import torch

w = torch.ones(3, requires_grad=True)
for _ in range(2):
    (w * w).sum().backward()
sys.exit(0)
