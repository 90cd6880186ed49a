"""A class, an argparse main() and a training loop behind the __main__ guard."""

import argparse

import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self, hidden: int = 12) -> None:
        super().__init__()
        self.fc1 = nn.Linear(6, hidden)
        self.fc2 = nn.Linear(hidden, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(self.fc1(x)))


def train(model: nn.Module, optimizer: torch.optim.Optimizer, steps: int) -> None:
    data = torch.randn(10, 6)
    target = torch.randint(0, 3, (10,))
    for step in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(data), target)
        loss.backward()
        optimizer.step()
        print(f"step {step}: loss {loss.item():.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description="train a small net")
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    train(model, optimizer, args.steps)


if __name__ == "__main__":
    main()
