"""Small sizes for constructor parameters nothing in a file gives, chosen by name.

A library file (``vit.py``: ``ViT(image_size, patch_size, num_classes, dim, depth,
heads, mlp_dim)``) gives no values; its README does. Rather than ask for seven numbers
to see the graph's shape, the loader tries small sizes that fit together (``dim`` 64
is 4 ``heads`` of 16; ``image_size`` 32 is 4x4 patches of 8), says so, and asks only
when they do not build a model that runs. Only parameters without a type hint or
hinted ``int``/``float`` are filled.
"""

from __future__ import annotations

import inspect

#: (exact names, value); the first match wins.
_EXACT: tuple[tuple[frozenset[str], int | float], ...] = (
    (frozenset({"image_size", "img_size", "resolution", "image_res"}), 32),
    (frozenset({"patch_size", "patch"}), 8),
    (
        frozenset(
            {
                "channels",
                "in_channels",
                "in_chans",
                "num_channels",
                "input_channels",
                "n_channels",
                "nc",
                "n_input_channels",
            }
        ),
        3,
    ),
    (frozenset({"ngpu", "n_gpu", "num_gpus"}), 1),
    (frozenset({"dim_head", "head_dim", "d_head"}), 16),
    (frozenset({"mlp_dim", "ff_dim", "dim_feedforward", "d_ff", "ffn_dim", "nhid"}), 128),
    (frozenset({"upscale_factor", "scale_factor", "factor", "upscale", "stride"}), 2),
    (frozenset({"kernel_size", "kernel"}), 3),
)
#: (words a name contains, value), tried in order after the exact names.
_WORDS: tuple[tuple[tuple[str, ...], int | float], ...] = (
    (("dropout", "drop"), 0.0),
    (("class", "label", "output", "out_"), 10),
    (("head",), 4),
    (("depth", "layer", "block"), 2),
    (("vocab", "token", "embeddings"), 100),
    (("block_size", "seq", "len", "ctx", "context", "frame"), 16),
    (
        (
            "dim",
            "size",
            "hidden",
            "feature",
            "width",
            "embd",
            "emb",
            "ninp",
            "latent",
            "nz",
            "ngf",
            "ndf",
        ),
        64,
    ),
)


def size_for(param: inspect.Parameter) -> int | float | None:
    """A small value for ``param`` by its name, or None (not a size, or a hint that is
    not a number)."""
    hint = param.annotation
    name = hint if isinstance(hint, str) else getattr(hint, "__name__", "")
    if hint is not inspect.Parameter.empty and name not in ("int", "float"):
        return None
    lowered = param.name.lower()
    for names, value in _EXACT:
        if lowered in names:
            return value
    for words, value in _WORDS:
        if any(word in lowered for word in words):
            return float(value) if name == "float" else value
    return None
