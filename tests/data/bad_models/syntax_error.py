import torch


def build_model() -> torch.nn.Module:
    return torch.nn.Linear(2, 2
