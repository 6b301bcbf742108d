"""``dbdbench report``: a static, offline site from run folders. Presentation only.

The site is ``index.html`` (leaderboard and curves as plain HTML, the per-image data inlined as
JSON), ``assets/`` (one CSS and one vanilla-JS file, package data copied as is), ``curves/``
(the :mod:`dbdbench.plots` figures, SVG and PNG) and ``img/<group>/<n>/`` (the photo and every
method's map as JPEG, the GT as PNG, shrunk to ``max_side``: for looking, not for re-scoring). Nothing refers to a network
address: it opens from the file system, from a USB stick, or from any static web server.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
import shutil
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from .. import __version__
from ..errors import DbdbenchError
from ..io import atomic_write_bytes
from ..leaderboard.runs import Group, collect_groups, dataset_names, no_results_message
from ..metric_table import METRICS, direction
from ..plots import load_gt, load_map, load_photo, locate_samples, method_colours, plot_curves
from ..wording import images_of, is_partial, plural

#: Per-image columns after the headline metrics (every metric of :data:`dbdbench.metric_table.METRICS`, which
#: also gives each one's direction), when the per_image CSV has them.
PER_IMAGE_EXTRA = ("gt_positive_fraction", "predict_s")
#: CSV columns the browser shows under another name and unit: (name, factor). Times read best in ms.
DISPLAYED_AS = {"predict_s": ("predict_ms", 1000.0)}

ASSETS = ("report.css", "report.js")


def build_report(
    runs_dir: str | Path,
    out: str | Path,
    *,
    dataset: str | Iterable[str] | None = None,
    methods: Iterable[str] | None = None,
    max_side: int | None = 384,
    workers: int = 2,
    title: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Write the site into ``out``; return a summary (groups, images, files) and warnings."""
    groups, problems = collect_groups(runs_dir, dataset=dataset, methods=methods)
    warnings = [f"{problem}; left out" for problem in problems]
    if not groups:
        raise DbdbenchError(no_results_message(runs_dir, dataset))
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DbdbenchError(f"--out {out}: exists and is not a folder")
    _clear_previous_site(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in ASSETS:
        _write(out / "assets" / name, resources.files(__package__).joinpath("assets").joinpath(name).read_bytes())

    colours = method_colours(e.row for g in groups for e in g.entries)
    payload_groups, sections, n_files = [], [], 0
    for group in groups:
        curve_files = plot_curves(group, colours, out / "curves", formats=("svg", "png"))
        images, rows, columns, notes, written = _group_images(group, out, max_side=max_side, workers=workers)
        warnings += notes
        n_files += written + len(curve_files)
        payload_groups.append(
            {
                "slug": group.slug,
                "title": group.title,
                "methods": [
                    {"row": e.row, "id": e.result.method.get("id"), "colour": colours[e.row]} for e in group.entries
                ],
                "columns": columns,
                "directions": {c: direction(c) for c in columns},
                "images": images,
                "rows": rows,
            }
        )
        sections.append(_leaderboard_section(group, colours, curve_files, out))

    leaderboard_link = _full_leaderboard(runs_dir, out, dataset, warnings)
    data: dict[str, Any] = {
        "title": title or f"dbdbench report: {Path(runs_dir).name}",
        "generator": f"dbdbench {__version__}",
        "groups": payload_groups,
    }
    page = Template(_template("index.html")).substitute(
        title=html.escape(data["title"]),
        generator=html.escape(data["generator"]),
        created=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        runs_dir=html.escape(str(runs_dir)),
        group_nav="\n".join(f'<li><a href="#lb-{html.escape(g.slug)}">{html.escape(g.title)}</a></li>' for g in groups),
        leaderboards="\n".join(sections),
        full_leaderboard=leaderboard_link,
        nav_leaderboard=' · <a href="leaderboard.html">Full leaderboard</a>' if leaderboard_link else "",
        # '</' inside a <script> block would end it early: JSON allows the escaped form.
        data=json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/"),
    )
    _write(out / "index.html", page.encode("utf-8"))
    summary = {
        "index": str(out / "index.html"),
        "groups": [
            {"slug": g["slug"], "title": g["title"], "methods": len(g["methods"]), "images": len(g["images"])}
            for g in payload_groups
        ],
        "files": n_files + 1 + len(ASSETS) + (1 if leaderboard_link else 0),
    }
    return summary, warnings


def _full_leaderboard(runs_dir, out: Path, dataset: str | Iterable[str] | None, warnings: list[str]) -> str:
    """``leaderboard.html``: every table ``dbdbench leaderboard --format html`` makes from RUNS_DIR (timing per
    device, accuracy by circle of confusion...), rendered by :mod:`dbdbench.leaderboard` itself."""
    from ..leaderboard import collect, render

    try:
        board, _problems, notes = collect([runs_dir], datasets=dataset_names(dataset))
        page = render(board, "html")
    except DbdbenchError as exc:
        warnings.append(f"full leaderboard left out: {exc}")
        return ""
    warnings += [f"leaderboard: {n}" for n in notes]
    _write(out / "leaderboard.html", page.encode("utf-8"))
    return (
        '<p class="full-leaderboard"><a href="leaderboard.html">The full leaderboard</a>: every table of '
        "<code>dbdbench leaderboard --format html</code> for these results (all methods, timing per device, "
        "accuracy by circle of confusion where the dataset has it).</p>"
    )


def _clear_previous_site(out: Path) -> None:
    """An earlier report in ``out`` is replaced (its images and curves removed first, so nothing stale is left);
    a folder holding anything else is refused rather than overwritten."""
    if not out.is_dir() or not any(out.iterdir()):
        return
    index = out / "index.html"
    try:
        ours = 'name="generator" content="dbdbench' in index.read_text(encoding="utf-8", errors="replace")[:2000]
    except OSError:
        ours = False
    if not ours:
        raise DbdbenchError(
            f"--out {out}: folder is not empty and holds no dbdbench report; give an empty or new folder"
        )
    for sub in ("img", "curves", "assets"):
        if (out / sub).is_dir():
            shutil.rmtree(out / sub)
    (out / "leaderboard.html").unlink(missing_ok=True)


def _write(path: Path, data: bytes) -> None:
    """Atomic, and readable by a web server like any file the user writes (temporary files start at 0600)."""
    atomic_write_bytes(path, data)
    os.chmod(path, 0o666 & ~_UMASK)


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def _template(name: str) -> str:
    return resources.files(__package__).joinpath("templates").joinpath(name).read_text(encoding="utf-8")


# ------------------------------------------------------------------ images and per-image rows


def _group_images(group: Group, out: Path, *, max_side: int | None, workers: int):
    """Write every image of the group (photo, GT, each map) and collect the per-image rows."""
    samples, reason = locate_samples(group.dataset_record)
    notes = [f"{group.title}: {reason}; the browser shows maps only"] if reason else []
    tables = [{r["stem"]: r for r in e.per_image()} for e in group.entries]
    present = [c for c in (*METRICS, *PER_IMAGE_EXTRA) if any(c in next(iter(t.values()), {}) for t in tables)]
    stems = sorted({s for t in tables for s in t})
    if not stems:
        notes.append(f"{group.title}: no per_image*.csv next to the results; the browser is empty")
    polarity = group.dataset_record.get("gt_polarity", "focus")
    base = out / "img" / group.slug

    def write_one(index_stem):
        index, stem = index_stem
        folder = base / str(index)
        rel = f"img/{group.slug}/{index}"
        sample = samples.get(stem)
        entry = {"stem": stem, "photo": None, "gt": None, "maps": []}
        count = 0
        photo = load_photo(sample, max_side)
        if photo is not None:
            _write(folder / "photo.jpg", _encode(photo, "JPEG"))
            entry["photo"], count = f"{rel}/photo.jpg", count + 1
        gt = load_gt(sample, polarity, max_side)
        if gt is not None:
            _write(folder / "gt.png", _encode(gt, "PNG"))
            entry["gt"], count = f"{rel}/gt.png", count + 1
        for j, run in enumerate(group.entries):
            arr = load_map(run, stem, max_side)
            if arr is None:
                entry["maps"].append(None)
                continue
            _write(folder / f"m{j}.jpg", _encode(arr, "JPEG"))
            entry["maps"].append(f"{rel}/m{j}.jpg")
            count += 1
        return entry, count

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        done = list(pool.map(write_one, enumerate(stems)))
    images = [e for e, _ in done]
    written = sum(c for _, c in done)
    rows = []
    for i, stem in enumerate(stems):
        for j, table in enumerate(tables):
            rec = table.get(stem)
            if rec is not None:
                rows.append([i, j, *[_number(rec.get(c), DISPLAYED_AS.get(c, (c, 1.0))[1]) for c in present]])
    no_photo = sum(1 for e in images if e["photo"] is None)
    if no_photo and not reason:
        notes.append(f"{group.title}: {no_photo} of {plural(len(images), 'image')} have no photo in the dataset")
    return images, rows, [DISPLAYED_AS.get(c, (c, 1.0))[0] for c in present], notes, written


def _number(value, factor: float = 1.0):
    return None if value is None else round(float(value) * factor, 6)


def _encode(arr, fmt: str) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    img = Image.fromarray(arr)
    if fmt == "JPEG":
        img.save(buf, format="JPEG", quality=88, optimize=True)
    else:
        img.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


# ------------------------------------------------------------------ leaderboard and curves (plain HTML)


def _leaderboard_section(group: Group, colours: dict[str, str], curve_files: list[Path], out: Path) -> str:
    esc = html.escape
    first = group.entries[0].result
    best = {}
    metrics = [k for k in METRICS if any(k in e.result.metrics for e in group.entries)]
    for key in metrics:
        values = [v for e in group.entries if isinstance(v := e.result.metrics.get(key), (int, float))]
        if values:
            best[key] = (max if METRICS[key].better == "higher" else min)(values)
    head = "".join(f"<th>{esc(k)} {METRICS[k].arrow}</th>" for k in metrics)
    body = []
    for e in group.entries:
        m, method = e.result.metrics, e.result.method
        cells = []
        for key in metrics:
            value = m.get(key)
            text = f"{value:.3f}" if isinstance(value, (int, float)) else "-"
            cells.append(f"<td class=num>{'<strong>' + text + '</strong>' if value == best.get(key) else text}</td>")
        timing, run = e.result.timing, e.result.run
        ms = f"{timing.median_s * 1000:.1f}" if timing is not None and timing.median_s is not None else "-"
        how = []  # how 'run' ran: its time per image depends on it (throughput, not latency)
        if run is not None:
            how.append(plural(run.workers, "worker"))
        if timing is not None and timing.batch_size:
            how.append(f"batch {timing.batch_size}")
        device = e.result.environment.device or "-"
        paper = str(method.get("paper") or "")
        body.append(
            f'<tr><td><span class="swatch" style="background:{colours[e.row]}"></span>{esc(e.row)}</td>'
            f'<td>{esc(str(method.get("kind") or "-"))}</td><td class=paper title="{esc(paper)}">{esc(paper)}</td>'
            + "".join(cells)
            + f'<td class=num title="{esc(", ".join(how))}">{ms}</td><td>{esc(str(device))}</td></tr>'
        )
    commands = sorted({str(e.result.command) for e in group.entries if e.result.command})
    curves = {p.name: p for p in curve_files}
    figures = []
    for kind, caption in (("pr", "Precision-recall curves"), ("f", "F-measure by threshold")):
        svg = curves.get(f"{group.slug}_{kind}.svg")
        png = curves.get(f"{group.slug}_{kind}.png")
        if svg is None:
            continue
        rel = svg.relative_to(out).as_posix()
        alt = f"{caption}, {group.title}"
        links = f'<a href="{esc(rel)}">SVG</a>' + (
            f' · <a href="{esc(png.relative_to(out).as_posix())}">PNG</a>' if png else ""
        )
        figures.append(
            f'<figure><img src="{esc(rel)}" alt="{esc(alt)}"><figcaption>{esc(caption)} ({links})</figcaption></figure>'
        )
    ds = first.dataset
    partial = ""
    if is_partial(ds, first.n_images):  # the markdown leaderboard's "5 of 500": never lost on the way to HTML
        partial = (
            f'<p class="warn partial">Partial data: {esc(images_of(ds, first.n_images))} of the split '
            "(a partial copy of the dataset, or a --limit/--subset run): not comparable with results on all of it.</p>"
        )
    return f"""
<section class="group" id="lb-{esc(group.slug)}">
  <h3>{esc(group.title)}</h3>
  {partial}
  <p class="protocol">Protocol <code>{esc(first.protocol_name)}</code>: {esc(first.protocol.get("description", ""))}
  File list hash <code>{esc(str(ds.get("file_list_hash")))}</code>. Best value of each metric in bold; ↑ higher is better, ↓ lower is better.</p>
  <div class="table-wrap"><table class="leaderboard">
    <thead><tr><th>method</th><th>kind</th><th>paper</th>{head}<th>run ms/image (median) †</th><th>device</th></tr></thead>
    <tbody>{"".join(body)}</tbody>
  </table></div>
  <p class="note">† Median time of one image's <code>predict</code> during <code>dbdbench run</code>, with the workers
  and batching that run used (hover a value to see them): throughput on that machine, not a latency. Latency after
  warm-up, per device, is what <code>dbdbench bench</code> measures (<code>dbdbench leaderboard</code> shows its
  tables).</p>
  <details><summary>Reproduce</summary><pre>{esc(chr(10).join(commands))}</pre></details>
  <div class="curves">{"".join(figures)}</div>
</section>"""
