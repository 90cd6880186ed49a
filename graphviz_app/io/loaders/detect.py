"""Tell a file's format from its bytes, not only from its name.

TorchScript and torch.export archives and ``torch.save`` files are all zip files;
their member names tell them apart. A file older ``torch.save`` wrote (or plain
``pickle``) starts with a pickle protocol byte; a safetensors file with the length
of its JSON header. Nothing here unpickles or runs anything.
"""

from __future__ import annotations

import struct
import zipfile
from enum import Enum
from pathlib import Path

from graphviz_app.io.load_errors import ModelFileError

ZIP_MAGIC = b"PK\x03\x04"
PICKLE_PROTOCOL = 0x80


class FileFormat(str, Enum):
    """The formats the loaders read."""

    PYTHON = "python"
    TORCHSCRIPT = "torchscript"
    EXPORTED = "torch.export"
    TORCH_SAVE = "torch.save"  # a state_dict, a checkpoint dict or a pickled module
    SAFETENSORS = "safetensors"


def detect_format(path: str | Path) -> str:
    """The :class:`FileFormat` value of ``path``; a clear error when it is none of them."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"No such model file: {path}")
    with path.open("rb") as stream:
        head = stream.read(16)
    if zipfile.is_zipfile(path):
        return _zip_format(path)
    if head.startswith(ZIP_MAGIC):
        raise ModelFileError(
            f"{path.name} is a damaged zip archive (truncated or incomplete?): TorchScript, "
            "torch.export and torch.save files are zip archives, and this one cannot be read."
        )
    if head[:1] == bytes([PICKLE_PROTOCOL]):
        return FileFormat.TORCH_SAVE.value
    if _is_safetensors(head, path.stat().st_size):
        return FileFormat.SAFETENSORS.value
    if path.suffix in (".pt", ".pth", ".pt2", ".safetensors", ".bin", ".ckpt") and head:
        raise ModelFileError(
            f"{path.name} is not a model file this app reads: it is neither a TorchScript or "
            "torch.export archive, a torch.save file nor safetensors."
        )
    return FileFormat.PYTHON.value  # the Python loader says so if it is not text


def _zip_format(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelFileError(f"{path.name} is a damaged zip archive: {exc}") from exc
    if any(n.endswith("/constants.pkl") or "/code/" in n for n in names):
        return FileFormat.TORCHSCRIPT.value
    if any(n.endswith("/archive_format") or n.endswith("/models/model.json") for n in names):
        return FileFormat.EXPORTED.value
    if any(n.endswith("data.pkl") for n in names):
        return FileFormat.TORCH_SAVE.value
    raise ModelFileError(
        f"{path.name} is a zip archive but not one torch wrote (no TorchScript code, "
        "torch.export program or torch.save data inside)."
    )


def _is_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 9:
        return False
    (header_length,) = struct.unpack("<Q", head[:8])
    return 8 + header_length <= size and head[8:9] == b"{"
