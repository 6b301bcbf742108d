"""Reading images, masks and maps (every odd format handled once, here) and atomic writes.

Readers raise :class:`~dbdbench.errors.InputError` naming the file and the
problem, so every command can report a bad file in one line. Writers go through
a unique temporary file in the destination folder and ``os.replace``, so a
killed process or a second process writing the same folder never leaves a
half-written file behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
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
    with contextlib.suppress(Exception):  # a broken EXIF block must not make a readable photo unreadable
        img = ImageOps.exif_transpose(img)
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
    elif img.mode == "P" or img.mode != "L":
        img = img.convert("RGB").convert("L")
    return np.asarray(img)


# --------------------------------------------------------------------- writing


def _create_unique(parent: Path, prefix: str, suffix: str, make) -> Path:
    for _ in range(100):
        candidate = parent / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            make(candidate)
            return candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"{parent}: could not create a unique temporary name")  # pragma: no cover


def make_temp_dir(parent: str | Path, prefix: str) -> Path:
    """A new, uniquely named folder in ``parent`` with the permissions of any ordinary folder (the umask
    applies; ``tempfile.mkdtemp`` would make it 0700 and a split renamed from it unreadable to the lab)."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    return _create_unique(parent, prefix, "", lambda p: os.mkdir(p, 0o777))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the complete new one.

    The temporary file is created with mode 0666 minus the umask, like any ordinary file (``mkstemp``
    would make every result, map and cache 0600, unreadable to the rest of a lab).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fds: list[int] = []
    tmp = _create_unique(path.parent, f".{path.name}.", ".tmp", lambda p: fds.append(os.open(p, flags, 0o666)))
    fd = fds[0]
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
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


def read_array(path: str | Path) -> np.ndarray:
    """A per-pixel array (CoC, depth) from ``.npy`` or from a one-array ``.npz`` (compressed, as ``synth`` stores them)."""
    path = Path(path)
    try:
        obj = np.load(path, allow_pickle=False)
        if not isinstance(obj, np.ndarray):  # an .npz archive
            with obj:
                names = list(obj.keys())
                if len(names) != 1:
                    raise InputError(path, f"expected one array in the .npz, found {len(names)}")
                return obj[names[0]]
        return obj
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except Exception as exc:
        raise InputError(path, f"unreadable array ({type(exc).__name__})") from None


def encode_npz(arr: np.ndarray, name: str = "arr") -> bytes:
    """One array as a compressed ``.npz`` with fixed metadata, so the same array always gives the same bytes."""
    import io as _io
    import zipfile

    payload = _io.BytesIO()
    np.save(payload, np.ascontiguousarray(arr), allow_pickle=False)
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        zf.writestr(info, payload.getvalue(), compresslevel=6)
    return buf.getvalue()


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
