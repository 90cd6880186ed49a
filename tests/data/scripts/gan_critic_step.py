"""A GAN as tutorials write it (DCGAN's training loop, on 2-D points): the
discriminator learns on the fake batch detached, then the generator on that same
batch. Each network has its own optimizer, so the discriminator's step cuts the
generator off at fake.detach() on purpose."""

import torch
from torch import nn

torch.manual_seed(0)
generator = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
discriminator = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
criterion = nn.BCEWithLogitsLoss()
opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))

for step in range(3):
    real = torch.randn(32, 2) * 0.5 + 1.0
    fake = generator(torch.randn(32, 4))
    opt_d.zero_grad()
    loss_real = criterion(discriminator(real), torch.ones(32, 1))
    loss_fake = criterion(discriminator(fake.detach()), torch.zeros(32, 1))
    (loss_real + loss_fake).backward()
    opt_d.step()
    opt_g.zero_grad()
    loss_g = criterion(discriminator(fake), torch.ones(32, 1))
    loss_g.backward()
    opt_g.step()
