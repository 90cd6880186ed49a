"""Fitting a vector's length with plain tensors: the second sample is the zero vector,
so the second backward call takes sqrt at 0 (the first is fine)."""

import torch

torch.manual_seed(0)
w = torch.ones(3, requires_grad=True)
samples = [torch.tensor([1.0, 2.0, 2.0]), torch.zeros(3), torch.tensor([0.5, 0.5, 0.5])]

for x in samples:
    y = x * w
    length = torch.sqrt((y * y).sum())
    loss = (length - 1.0) ** 2
    loss.backward()
    with torch.no_grad():
        w -= 0.01 * w.grad
    w.grad = None
    print(loss.item())
