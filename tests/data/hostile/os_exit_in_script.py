"""A script that calls os._exit() before its first backward call."""

import os

import torch

w = torch.ones(3, requires_grad=True)
os._exit(3)
(w * 2).sum().backward()
