"""The weights a plugin ships, one table per plugin: name (a variant) -> file, content hash, metadata.

Why a table (the idea of timm's pretrained configs): what a release contains is declared in one place that a
reader, the method and the tests all see. The table is ``packaged.json`` in the plugin's ``weights/`` folder,
beside the files and their model card, so that shipping new weights changes data, not code. The method finds a variant's file through it, every load checks
the file's content hash against it (a weights file swapped or damaged in an install is refused with one line,
never scored silently), and a test checks that every entry's file exists with that hash. Importing this
module does not import torch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dbdbench.errors import DbdbenchError


@dataclass(frozen=True)
class Shipped:
    """One shipped weights file: its name in the plugin's ``weights/`` folder and its ``weights_sha256``."""

    file: str
    sha256: str
    #: Free-form facts about the file (what it is, what trained it); the model card has the whole story.
    metadata: Mapping[str, str] = field(default_factory=dict)


class PackagedWeights:
    """A plugin's shipped weights: ``folder`` (its ``weights/``) and the table of what lies there."""

    MANIFEST = "packaged.json"

    def __init__(self, folder: Path, table: Mapping[str, Shipped]):
        self.folder = Path(folder)
        self.table = dict(table)

    @classmethod
    def from_manifest(cls, folder: Path) -> PackagedWeights:
        """The table of ``folder/packaged.json``: ``{name: {"file", "sha256", other facts...}}``; none when absent
        (a plugin installed without its weights then runs with random weights, flagged in provenance)."""
        path = Path(folder) / cls.MANIFEST
        if not path.is_file():
            return cls(folder, {})
        try:
            raw = json.loads(path.read_text())
            table = {
                name: Shipped(
                    entry["file"], entry["sha256"], {k: v for k, v in entry.items() if k not in {"file", "sha256"}}
                )
                for name, entry in raw.items()
            }
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DbdbenchError(f"{path}: not a table of shipped weights ({exc})") from None
        return cls(folder, table)

    def path(self, name: str) -> Path | None:
        """The file of ``name``, or None when the table has no entry or the file is absent."""
        entry = self.table.get(name)
        if entry is None:
            return None
        path = self.folder / entry.file
        return path if path.is_file() else None

    def expected_sha256(self, path: Path) -> str | None:
        """The table's hash for ``path`` when it is one of the shipped files, else None."""
        for entry in self.table.values():
            if (self.folder / entry.file).resolve() == Path(path).resolve():
                return entry.sha256
        return None

    def verify(self, path: Path, digest: str) -> None:
        """Refuse a shipped file whose content hash is not the table's."""
        expected = self.expected_sha256(path)
        if expected is not None and digest != expected:
            raise DbdbenchError(
                f"{path}: packaged weights changed (content hash {digest[:12]}..., the plugin's table says "
                f"{expected[:12]}...); reinstall the plugin or pass --option weights=PATH"
            )
