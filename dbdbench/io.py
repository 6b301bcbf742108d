"""Reading images, masks and maps (every odd format handled once, here) and atomic writes.

Readers raise :class:`~dbdbench.errors.InputError` naming the file and the
problem, so every command can report a bad file in one line. Writers go through
a unique temporary file in the destination folder and ``os.replace``, so a
killed process or a second process writing the same folder never leaves a
half-written file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import InputError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")

# Large but legitimate photos (6000x4000 and up) must load; only absurd sizes are refused.
Image.MAX_IMAGE_PIXELS = 200_000_000


def _open(path: str | Path) -> Image.Image:
    """Open and fully decode an image, translating every failure into one clear line."""
    path = Path(path)
    try:
        if path.is_dir():
            raise InputError(path, "is a directory, expected an image file")
        if path.stat().st_size == 0:
            raise InputError(path, "is empty (0 bytes)")
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
            img.load()
        return img
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except UnidentifiedImageError:
        raise InputError(path, "not a readable image (unrecognised format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(path, f"image too large (over {Image.MAX_IMAGE_PIXELS} pixels)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(path, f"truncated or corrupt image data ({detail})") from None


def _to_8bit_array(img: Image.Image) -> np.ndarray:
    """High-bit-depth single-channel images become 8-bit by scaling, not clipping."""
    arr = np.asarray(img)
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.floating):
        hi = 1.0 if float(np.nanmax(arr)) <= 1.0 else 255.0
        return np.clip(np.nan_to_num(arr) / hi * 255.0 + 0.5, 0, 255).astype(np.uint8)
    # 16-bit (or 32-bit integer) data: scale by the container's range.
    maxval = 65535 if arr.max(initial=0) > 255 or img.mode.startswith("I;16") else 255
    return np.clip(np.round(arr.astype(np.float64) * (255.0 / maxval)), 0, 255).astype(np.uint8)


def read_rgb(path: str | Path) -> np.ndarray:
    """Read a photo as ``H x W x 3`` uint8 RGB, honouring EXIF orientation.

    Grayscale, palette, RGBA (alpha dropped), CMYK and 16-bit files all become 8-bit RGB.
    """
    img = _open(path)
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block must not make a readable photo unreadable
        pass
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        gray = _to_8bit_array(img)
        return np.repeat(gray[..., None], 3, axis=2)
    if img.mode != "RGB":
        img = img.convert("RGBA").convert("RGB") if img.mode == "P" else img.convert("RGB")
    arr = np.asarray(img)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise InputError(path, f"could not convert image of mode {img.mode} to RGB")
    return arr


def read_gray(path: str | Path) -> np.ndarray:
    """Read a mask or a map as a 2-D array on the 0..255 scale.

    8-bit files stay ``uint8`` (the fast, exact path used for scoring). 16-bit
    and floating-point files become ``float64`` on the same 0..255 scale so no
    precision is lost. Colour files are converted to luma.
    """
    img = _open(path)
    if img.mode in ("I", "I;16", "I;16B", "I;16L"):
        arr = np.asarray(img).astype(np.float64)
        maxval = 65535.0 if arr.max(initial=0) > 255 or img.mode.startswith("I;16") else 255.0
        return arr * (255.0 / maxval)
    if img.mode == "F":
        arr = np.asarray(img).astype(np.float64)
        if not np.isfinite(arr).all():
            raise InputError(path, "contains NaN or infinite values")
        return arr * 255.0 if arr.max(initial=0) <= 1.0 else np.clip(arr, 0, 255)
    if img.mode == "1":
        return np.asarray(img).astype(np.uint8) * 255
    if img.mode == "LA":
        img = img.getchannel("L")
    elif img.mode == "P":
        img = img.convert("RGB").convert("L")
    elif img.mode != "L":
        img = img.convert("RGB").convert("L")
    return np.asarray(img)


def image_size(path: str | Path) -> tuple[int, int]:
    """(height, width) of an image, reading only its header."""
    try:
        with Image.open(path) as img:
            w, h = img.size
            return h, w
    except Exception:
        return _open(path).size[::-1]


# --------------------------------------------------------------------- writing


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the complete new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    # surrogateescape: file names that are not valid UTF-8 (legal on Linux) reach tables as lone surrogates;
    # write their original bytes back instead of failing after all the work is done.
    atomic_write_bytes(path, text.encode("utf-8", errors="surrogateescape"))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def encode_png(arr: np.ndarray) -> bytes:
    import io as _io

    buf = _io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def map_to_uint8(pred: np.ndarray) -> np.ndarray:
    """Quantise a [0, 1] map to 8 bits by rounding (the cache format)."""
    return np.clip(np.rint(pred.astype(np.float64) * 255.0), 0, 255).astype(np.uint8)


def write_map_png(path: str | Path, pred: np.ndarray) -> np.ndarray:
    """Write a [0, 1] focus map as a rounded 8-bit PNG, atomically; return the stored 8-bit map."""
    q = map_to_uint8(pred)
    atomic_write_bytes(path, encode_png(q))
    return q
