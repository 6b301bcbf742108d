"""Per-image data: what every metric needs of each image to be recomputed on any resample of the images.

A result's headline metrics are aggregates over images (means of per-image values, or curves and ratios of
summed counts). To resample images (``--ci``, ``compare``, ``leaderboard --ci``) the aggregate must be
recomputed from per-image parts, so a result keeps, per image, in sorted-stem order:

* ``hist``: the joint 2 x 256 histogram of the quantised score over GT-negative / GT-positive pixels, from
  which every threshold curve (precision, recall, F at t = 0..255) follows exactly;
* ``columns``: every per-image scalar the measures' ``step`` returned (``mae``, ``f_adaptive`` with its
  precision and recall, ...), at full float64 precision (``per_image.csv`` rounds to 6 decimals).

Stored next to the result as ``per_image<variant>.npz`` (or ``<row><variant>.per_image.npz`` beside a
committed copy), written with fixed zip metadata so the same data always gives the same bytes. The
histograms are stored byte-shuffled (all low bytes, then the next, ...: ``hist_bytes``, with their
little-endian ``hist_dtype``), which deflates to about 70% of the plain array: about 600 bytes per image of continuous 8-bit maps.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DbdbenchError

#: Version of the ``.npz`` layout (the ``format`` array).
FORMAT = 1
_RESERVED = ("format", "stems", "hist_bytes", "hist_dtype")
_COLUMN = "column."


class PerImageDataError(DbdbenchError):
    """Per-image data that is missing, unreadable or does not fit its result."""


@dataclass
class PerImageData:
    stems: list[str]
    #: (n, 2, 256) integer counts: ``hist[i, 0]`` over GT-negative pixels of image i, ``hist[i, 1]`` GT-positive.
    hist: np.ndarray
    #: Per-image scalars by name, each (n,) float64.
    columns: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return len(self.stems)

    def column(self, name: str) -> np.ndarray:
        if name not in self.columns:
            raise PerImageDataError(
                f"per-image data has no column {name!r} (it has {', '.join(sorted(self.columns)) or 'none'}); "
                "it was written by an older dbdbench: re-run the command that made the result"
            )
        return self.columns[name]

    @classmethod
    def from_records(cls, records: list[dict], hists: list[np.ndarray]) -> PerImageData:
        """From :class:`~dbdbench.metrics.Evaluator`'s per-image records and histograms (one each per image)."""
        stems = [str(r["stem"]) for r in records]
        hist = np.stack(hists).astype(np.int64) if hists else np.zeros((0, 2, 256), np.int64)
        names = [k for k, v in (records[0].items() if records else ()) if k != "stem" and _is_number(v)]
        columns = {k: np.array([float(r[k]) for r in records], dtype=np.float64) for k in names}
        return cls(stems, hist, columns)

    # ------------------------------------------------------------------ bytes

    def encode(self) -> bytes:
        """A compressed ``.npz``; fixed zip metadata, so equal data gives equal bytes."""
        hist = self.hist
        dtype = "<u4" if hist.size == 0 or (hist.min() >= 0 and hist.max() < 2**32) else "<i8"
        planes = np.moveaxis(hist.astype(dtype).view(np.uint8).reshape(*hist.shape, -1), -1, 0)
        arrays = {
            "format": np.array(FORMAT, dtype=np.int64),
            "stems": np.array(self.stems, dtype=str),
            "hist_bytes": planes,
            "hist_dtype": np.array(dtype),
            **{_COLUMN + k: np.asarray(v, dtype=np.float64) for k, v in sorted(self.columns.items())},
        }
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for name, arr in arrays.items():
                payload = io.BytesIO()
                np.save(payload, np.ascontiguousarray(arr), allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, payload.getvalue(), compresslevel=9)
        return buf.getvalue()

    @classmethod
    def read(cls, path: str | Path) -> PerImageData:
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except FileNotFoundError:
            raise PerImageDataError(f"{path}: no such file") from None
        except Exception as exc:
            raise PerImageDataError(f"{path}: unreadable per-image data ({type(exc).__name__})") from None
        if any(k not in arrays for k in _RESERVED) or int(arrays["format"].ravel()[0]) != FORMAT:
            raise PerImageDataError(f"{path}: not dbdbench per-image data of format {FORMAT}")
        stems = [str(s) for s in arrays["stems"].tolist()]
        planes, dtype = arrays["hist_bytes"], str(arrays["hist_dtype"].ravel()[0])
        if dtype not in ("<u4", "<i8") or planes.dtype != np.uint8 or planes.shape[:1] != (np.dtype(dtype).itemsize,):
            raise PerImageDataError(f"{path}: per-image histograms in an unknown layout")
        hist = np.ascontiguousarray(np.moveaxis(planes, 0, -1)).view(dtype)[..., 0].astype(np.int64)
        columns = {k[len(_COLUMN) :]: v.astype(np.float64) for k, v in arrays.items() if k.startswith(_COLUMN)}
        if hist.shape != (len(stems), 2, 256) or any(v.shape != (len(stems),) for v in columns.values()):
            raise PerImageDataError(f"{path}: per-image arrays of inconsistent shapes")
        return cls(stems, hist, columns)

    def write(self, path: str | Path) -> None:
        from ..io import atomic_write_bytes

        atomic_write_bytes(path, self.encode())


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def sidecar_name(result_file: str | Path) -> str:
    """The per-image data file written beside a result file: ``result.te1.json`` -> ``per_image.te1.npz`` (as
    ``per_image.te1.csv``), any other ``<name>.json`` -> ``<name>.per_image.npz`` (committed copies)."""
    name = Path(result_file).name
    stem = name[: -len(".json")] if name.endswith(".json") else name
    if stem.startswith("result"):
        return f"per_image{stem[len('result') :]}.npz"
    return f"{stem}.per_image.npz"
