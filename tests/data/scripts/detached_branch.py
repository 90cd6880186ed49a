"""A head trained on features from a frozen-by-mistake encoder: the features and a gate
are detached, so neither the encoder nor the gate ever gets a gradient."""

import torch
from torch import nn

torch.manual_seed(0)
encoder = nn.Linear(4, 8)
head = nn.Linear(8, 1)
gate = torch.ones(8, requires_grad=True)
params = [*encoder.parameters(), *head.parameters(), gate]
optimizer = torch.optim.Adam(params, lr=1e-2)
x, y = torch.randn(16, 4), torch.randn(16, 1)

for step in range(3):
    features = encoder(x).detach()
    prediction = head(features * gate.detach())
    loss = nn.functional.mse_loss(prediction, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print("done", round(loss.item(), 4))
