"""``dbdbench synth``: generate a split explicitly and write a contact sheet for people to look at.

Heavy modules are imported inside the command so that ``dbdbench --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import click

from . import params


def _coc_colours(coc, vmax: float):
    """Colour a CoC map: black (sharp) through purple and orange to pale yellow (``vmax`` px and more)."""
    import numpy as np

    anchors = np.array([[0, 0, 0], [40, 20, 90], [150, 40, 120], [235, 110, 50], [252, 250, 190]], np.float32)
    t = np.clip(coc / vmax, 0, 1) * (len(anchors) - 1)
    i = np.minimum(t.astype(int), len(anchors) - 2)
    f = (t - i)[..., None]
    return (anchors[i] * (1 - f) + anchors[i + 1] * f).astype(np.uint8)


def contact_sheet(
    folder: str | Path, out_png: str | Path, max_images: int = 12, tile: int = 256, columns: int = 2
) -> Path:
    """Write ``image | GT | blur map`` triplets of the first images of a split to ``out_png``."""
    import numpy as np
    from PIL import Image, ImageDraw

    from ...io import atomic_write_bytes, encode_png, read_array, read_gray, read_rgb
    from .generate import read_manifest

    folder = Path(folder)
    manifest = read_manifest(folder) or {}
    stems = [s["stem"] for s in manifest.get("samples", [])][:max_images]
    vmax = 16.0 * manifest.get("size", params.DEFAULT_SIZE) / params.REFERENCE_SIZE
    label_h = 14
    triplets = []
    for stem in stems:
        img = read_rgb(folder / "images" / f"{stem}.png")
        gt = read_gray(folder / "gt" / f"{stem}.png")
        coc = read_array(folder / "coc" / f"{stem}.npz")
        parts = [img, np.repeat(gt[..., None], 3, axis=2), _coc_colours(coc, vmax)]
        parts = [np.asarray(Image.fromarray(p).resize((tile, tile), Image.Resampling.BILINEAR)) for p in parts]
        triplets.append(np.concatenate(parts, axis=1))
    if not triplets:
        raise click.ClickException(f"{folder}: no images to preview")
    gap = 6
    rows = -(-len(triplets) // columns)
    w = columns * 3 * tile + (columns - 1) * gap
    h = rows * (tile + label_h)
    sheet = Image.new("RGB", (w, h + label_h), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for c in range(columns):
        x = c * (3 * tile + gap)
        draw.text((x + 4, 1), "image", fill=(0, 0, 0))
        draw.text((x + tile + 4, 1), f"GT (white = CoC <= {params.FOCUS_COC_PX} px)", fill=(0, 0, 0))
        draw.text((x + 2 * tile + 4, 1), f"CoC, 0 .. {vmax:g}+ px", fill=(0, 0, 0))
    for k, (stem, tri) in enumerate(zip(stems, triplets)):
        r, c = divmod(k, columns)
        x, y = c * (3 * tile + gap), label_h + r * (tile + label_h)
        sheet.paste(Image.fromarray(tri), (x, y + label_h))
        draw.text((x + 4, y + 1), stem, fill=(0, 0, 0))
    out_png = Path(out_png)
    atomic_write_bytes(out_png, encode_png(np.asarray(sheet)))
    return out_png


@click.command("synth", short_help="Generate the synthetic dataset (no download, deterministic).")
@click.option(
    "--split",
    type=click.Choice(params.SPLITS),
    default=params.DEFAULT_SPLIT,
    show_default=True,
    help="test: the benchmark set; train: for learned methods; fc / fb: all sharp / all blurred.",
)
@click.option(
    "--n",
    "n",
    type=click.IntRange(min=1),
    default=None,
    help="Number of images [default: 200 for test, fc, fb; 1000 for train].",
)
@click.option("--seed", type=int, default=params.DEFAULT_SEED, show_default=True, help="Same seed, same bytes.")
@click.option(
    "--size", type=click.IntRange(min=32), default=params.DEFAULT_SIZE, show_default=True, help="Image side in pixels."
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write the split here instead of the cache ($DBDBENCH_CACHE or the user cache dir).",
)
@click.option(
    "--preview",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write a contact sheet (image | GT | blur map) of the first images to this PNG.",
)
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Worker processes.")
def synth_command(split, n, seed, size, out, preview, workers):
    """Generate the embedded synthetic defocus dataset (no download; deterministic)."""
    import time

    from ...errors import DbdbenchError
    from .generate import ensure_split, generate_split, read_manifest

    t0 = time.perf_counter()
    try:
        if out is not None:
            folder = generate_split(out, split=split, n=n, seed=seed, size=size, workers=workers)
        else:
            folder = ensure_split(split, n=n, seed=seed, size=size, workers=workers)
    except DbdbenchError as exc:
        raise click.ClickException(str(exc)) from None
    elapsed = time.perf_counter() - t0
    m = read_manifest(folder) or {}
    fracs = [s.get("in_focus_fraction", 0.0) for s in m.get("samples", [])]
    click.echo(
        f"synth {split}: {m.get('n')} images of {size}x{size} (seed {seed}, generator v{params.GENERATOR_VERSION}) "
        f"in {folder} [{elapsed:.1f} s]"
    )
    if fracs:
        click.echo(f"in-focus fraction: min {min(fracs):.2f}, mean {sum(fracs) / len(fracs):.2f}, max {max(fracs):.2f}")
    if preview is not None:
        path = contact_sheet(folder, preview)
        click.echo(f"preview: {path}")
