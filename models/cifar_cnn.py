"""The CIFAR-10 tutorial's CNN on synthetic 32x32 colour images.

**What to look at.** Two convolution stages, each
[ConvolutionBackward0](node:ConvolutionBackward0) -> ReLU ->
[MaxPool2DWithIndicesBackward0](node:MaxPool2DWithIndicesBackward0), shrink the image
32 -> 28 -> 14 -> 10 -> 5; [ViewBackward0](node:ViewBackward0) (yellow) flattens
16x5x5 into 400 features for three fully connected layers. Click
[conv1.weight](node:conv1.weight): 6 filters of 3x5x5 (456 parameters with the bias)
against `fc1.weight`'s 48,000: most parameters sit in the first linear layer.

**Try.** Click the max-pool node: under "Saved for backward", `result1` holds the index
of each 2x2 window's maximum, so backward sends each gradient to one pixel of four. Ctrl+T trains a
step on a new synthetic batch (each class is a colour tint plus noise).

**Question.** Why does the convolution save its input and weight, but the ReLU only its
result?
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

CLASSES, BATCH = 10, 4


class Net(nn.Module):
    """conv(3->6, 5x5) -> pool -> conv(6->16, 5x5) -> pool -> 120 -> 84 -> 10."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(functional.relu(self.conv1(x)))
        x = self.pool(functional.relu(self.conv2(x)))
        x = x.view(x.shape[0], -1)
        x = functional.relu(self.fc1(x))
        return self.fc3(functional.relu(self.fc2(x)))


def build_model() -> nn.Module:
    torch.manual_seed(0)
    return Net()


def synthetic_images(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of noisy 32x32 images whose class sets a per-channel colour tint."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, CLASSES, (BATCH,), generator=generator)
    tints = torch.linspace(-1, 1, CLASSES * 3).view(CLASSES, 3)[labels]
    noise = 0.5 * torch.randn(BATCH, 3, 32, 32, generator=generator)
    return noise + tints[:, :, None, None], labels


def example_inputs() -> torch.Tensor:
    return synthetic_images(1)[0]


def loss_fn(output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    # The label is recovered from the tint: a model file's loss sees only the inputs.
    return functional.cross_entropy(output, label_of(x))


def label_of(x: torch.Tensor) -> torch.Tensor:
    """The class whose tint is nearest to the image's mean colour."""
    tints = torch.linspace(-1, 1, CLASSES * 3, dtype=x.dtype, device=x.device).view(CLASSES, 3)
    return torch.cdist(x.mean(dim=(2, 3)), tints).argmin(dim=1)


def make_batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
    return synthetic_images(100 + step)
