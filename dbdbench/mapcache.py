"""The map cache: one 8-bit PNG per image, reused only when it was made from the same image bytes by the
same method configuration (id, version, options, plugin version, weights).

``maps/<stem>.png`` holds the map; ``maps.jsonl`` beside it holds, one line per map written, the sha256 of
the image it was made from and the key of the configuration that made it. Lines are appended with one
``write()`` on an ``O_APPEND`` descriptor (concurrent runs never interleave) and the latest line of a stem
wins; a map with no matching line (another image under the same name, other weights, a cache written by
an older dbdbench) is recomputed, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

INDEX = "maps.jsonl"


def config_key(identity: dict[str, Any]) -> str:
    """A short, stable hash of the configuration that makes maps."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:16]


class MapCache:
    def __init__(self, run_dir: Path, key: str):
        self.maps_dir = run_dir / "maps"
        self.index = run_dir / INDEX
        self.key = key
        self.maps_dir.mkdir(parents=True, exist_ok=True)
        self._entries = self._load()

    def _load(self) -> dict[str, tuple[str, str]]:
        entries: dict[str, tuple[str, str]] = {}
        if not self.index.exists():
            return entries
        for line in self.index.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                e = json.loads(line)
                entries[str(e["stem"])] = (str(e["image_sha256"]), str(e["key"]))
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line from a killed process
        return entries

    def map_path(self, stem: str) -> Path:
        return self.maps_dir / f"{stem}.png"

    def reusable(self, stem: str, image_sha256: str) -> bool:
        path = self.map_path(stem)
        return self._entries.get(stem) == (image_sha256, self.key) and path.is_file() and path.stat().st_size > 0

    def record(self, stem: str, image_sha256: str) -> None:
        """Call after the map file is in place: from now on it may be reused for these bytes."""
        self._entries[stem] = (image_sha256, self.key)
        append_entry(self.index, stem, image_sha256, self.key)


def append_entry(index: Path, stem: str, image_sha256: str, key: str) -> None:
    """One line, one ``write()`` on an ``O_APPEND`` descriptor: safe from worker processes too, so a map a worker
    finished after its parent was killed is still known to the next run."""
    if len(image_sha256) != 64:
        return  # the image could not be hashed: its map is never reused
    line = (json.dumps({"stem": stem, "image_sha256": image_sha256, "key": key}) + "\n").encode()
    fd = os.open(index, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
