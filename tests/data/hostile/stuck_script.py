"""A script stuck in a Python loop before its first backward call."""

import torch

w = torch.ones(3, requires_grad=True)
spins = 0
while spins >= 0:
    spins += 1
(w * 2).sum().backward()
