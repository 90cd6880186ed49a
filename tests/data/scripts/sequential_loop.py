"""A third-order polynomial fit with nn.Sequential, trained at top level."""

import math

import torch

torch.manual_seed(0)
x = torch.linspace(-math.pi, math.pi, 200)
xx = x.unsqueeze(-1).pow(torch.tensor([1, 2, 3]))
y = torch.sin(x)

model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
loss_fn = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.SGD(model.parameters(), lr=2e-6)
for t in range(6):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    print(t, round(loss.item(), 4))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print("trained")
