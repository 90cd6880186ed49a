"""Gradient accumulation over two micro-batches before each step: the second backward
call adds to what the first left in .grad."""

import torch
from torch import nn

torch.manual_seed(0)
net = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 1))
optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
batches = [(torch.randn(8, 5), torch.randn(8, 1)) for _ in range(4)]

for index, (x, y) in enumerate(batches):
    loss = nn.functional.mse_loss(net(x), y) / 2
    loss.backward()
    if index % 2 == 1:
        optimizer.step()
        optimizer.zero_grad()
