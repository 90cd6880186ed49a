"""A class file whose code prints, as nanoGPT's GPT does ("number of parameters:
123.69M"): at import, in __init__ and in every forward, with print() and straight to
file descriptor 1. `graphviz-app check --json` must keep all of it off stdout."""

import os

import torch
from torch import nn

print("chatty: imported")


class ChattyNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 4)
        print(f"number of parameters: {sum(p.numel() for p in self.parameters())}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        print("chatty: forward", tuple(x.shape))
        os.write(1, b"chatty: forward, said to fd 1\n")
        return self.fc2(torch.tanh(self.fc1(x)))
