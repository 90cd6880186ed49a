"""Two models in one loop (a generator and a critic): their parameters keep their names."""

import torch
from torch import nn

torch.manual_seed(0)
generator = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3))
critic = nn.Linear(3, 1)
noise = torch.randn(8, 2)
for step in range(3):
    score = critic(generator(noise)).mean()
    generator.zero_grad()
    critic.zero_grad()
    score.backward()
