"""A script that calls quit() before its first backward call."""

import torch

w = torch.ones(3, requires_grad=True)
quit()
(w * 2).sum().backward()
