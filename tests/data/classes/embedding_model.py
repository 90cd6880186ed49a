"""Token ids -> embeddings -> a GRU -> logits; the vocabulary size is a constant."""

import torch
from torch import nn

VOCAB_SIZE = 100


class TextModel(nn.Module):
    def __init__(self, vocab_size: int, dim: int = 16) -> None:
        """A small language model.

        Args:
            vocab_size: how many different tokens there are.
            dim: the width of the embeddings and the GRU.
        """
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.rnn = nn.GRU(dim, dim, batch_first=True)
        self.head = nn.Linear(dim, vocab_size)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        states, _ = self.rnn(self.embed(ids))
        return self.head(states)
