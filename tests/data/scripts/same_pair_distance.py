"""A siamese distance trained at top level: one pair holds the same point twice, so its
distance is sqrt(0). The loss is finite; backward makes Inf at the sqrt and NaN next."""

import torch
from torch import nn

torch.manual_seed(0)
embed = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
optimizer = torch.optim.SGD(embed.parameters(), lr=0.1)
left = torch.randn(6, 3)
right = torch.randn(6, 3)
right[2] = left[2]  # the same point on both sides

for epoch in range(2):
    distance = (embed(left) - embed(right)).pow(2).sum(dim=1).sqrt()
    loss = distance.mean()
    print(epoch, loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
