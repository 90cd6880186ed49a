"""A conv net's output backpropagated with a gradient of its own, then a loss."""

import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.fc1 = nn.Linear(4 * 3 * 3, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        return self.fc1(torch.flatten(x, 1))


torch.manual_seed(0)
net = Net()
input = torch.randn(1, 1, 8, 8)
out = net(input)
net.zero_grad()
out.backward(torch.randn(1, 10), retain_graph=True)

criterion = nn.MSELoss()
loss = criterion(out, torch.randn(1, 10))
loss.backward()
print("conv1.bias.grad", net.conv1.bias.grad)
