"""A GAN step as tutorials write it: the critic learns on the fake batch detached, then
the generator on that same batch (its graph was built before the critic's backward).
The generator's codes come from an encoder through .detach(): it never learns."""

import torch
from torch import nn

torch.manual_seed(0)
encoder = nn.Linear(4, 4)
generator = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
critic = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
opt_g = torch.optim.Adam(generator.parameters(), lr=1e-3)
opt_c = torch.optim.Adam(critic.parameters(), lr=1e-3)

for step in range(2):
    codes = encoder(torch.randn(16, 4)).detach()
    fake = generator(codes)
    critic_loss = critic(fake.detach()).mean() - critic(torch.randn(16, 2)).mean()
    opt_c.zero_grad()
    critic_loss.backward()
    opt_c.step()
    generator_loss = -critic(fake).mean()
    opt_g.zero_grad()
    generator_loss.backward()
    opt_g.step()
