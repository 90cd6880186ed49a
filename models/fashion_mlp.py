"""The FashionMNIST quick-start MLP on synthetic 28x28 grey images.

**What to look at.** Three `nn.Linear` layers, 784 -> 512 -> 512 -> 10, with ReLUs
between them: each layer is one [AddmmBackward0](node:AddmmBackward0) fed by its weight
through a `TBackward0`, and each ReLU a [ReluBackward0](node:ReluBackward0).
`CrossEntropyLoss` appears as [LogSoftmaxBackward0](node:LogSoftmaxBackward0) then
[NllLossBackward0](node:NllLossBackward0). The status bar counts 669,706 parameters;
click [linear_relu_stack.0.weight](node:linear_relu_stack.0.weight) (512x784) to see
where most of them are.

**Try.** View > Collapse top-level modules (Ctrl+Shift+C): the whole stack becomes one
node, as `print(model)` shows it. Ctrl+T trains a step on a new synthetic batch (each
class is a bright horizontal band at its own height).

**Devices.** Parameters, inputs and every intermediate live on one device. On a machine
with a GPU, choose it in the Training dock's "Device & dtype" tab: the app moves the
model there, runs forward and backward again and compares the gradients with the CPU's;
each node's shape line (and the Inspector's "shape / dtype" row) then ends in
`cuda:0`. On the CPU no device is written.

**Question.** `nn.Flatten` reshapes every image into 784 numbers, yet it has no node in
the graph: why not?
"""

from __future__ import annotations

import torch
from torch import nn

CLASSES, BATCH, SIDE = 10, 8, 28


class NeuralNetwork(nn.Module):
    """Flatten, then Linear(784, 512), ReLU, Linear(512, 512), ReLU, Linear(512, 10)."""

    def __init__(self) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(SIDE * SIDE, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, CLASSES),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_relu_stack(self.flatten(x))


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return NeuralNetwork()


def synthetic_images(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy 1x28x28 images in [0, 1]; class k lights the rows around 2 + 2.5 k."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, CLASSES, (BATCH,), generator=generator)
    images = 0.2 * torch.rand(BATCH, 1, SIDE, SIDE, generator=generator)
    for index, label in enumerate(labels.tolist()):
        row = 2 + int(2.5 * label)
        images[index, 0, row : row + 2, :] += 0.8
    return images, labels


def label_of(x: torch.Tensor) -> torch.Tensor:
    """The class whose band is brightest (the loss sees only the images)."""
    rows = x.mean(dim=(1, 3))  # (batch, 28) mean brightness per row
    bands = torch.stack([rows[:, 2 + int(2.5 * k)] for k in range(CLASSES)], dim=1)
    return bands.argmax(dim=1)


def example_inputs() -> torch.Tensor:
    return synthetic_images(1)[0]


def loss_fn(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(output, label_of(x))


def make_batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
    return synthetic_images(100 + step)
