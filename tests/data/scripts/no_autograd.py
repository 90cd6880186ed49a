"""Gradients computed by hand: no autograd anywhere."""

import math

import torch

x = torch.linspace(-math.pi, math.pi, 100)
y = torch.sin(x)
a, b = torch.randn(()), torch.randn(())
for _ in range(10):
    y_pred = a + b * x
    grad_y_pred = 2.0 * (y_pred - y)
    a -= 1e-4 * grad_y_pred.sum()
    b -= 1e-4 * (grad_y_pred * x).sum()
print(a, b)
