"""torch.autograd.grad: the gradient is returned, .grad is left alone."""

import torch

torch.manual_seed(0)
x = torch.randn(4, requires_grad=True)
w = torch.randn(4, requires_grad=True)
y = (x * w).sin().sum()
(dx,) = torch.autograd.grad(y, x)
print("dx", dx)
