"""Render a :class:`~dbdbench.leaderboard.collect.Leaderboard` as Markdown, CSV, LaTeX or HTML.

Presentation only, and deterministic: the same result files always give the same bytes (no dates,
no paths of the machine that renders, rows and tables in a fixed order), so a committed table can be
checked against the committed results (``dbdbench leaderboard --check``).
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import dataclass, field
from typing import Literal

from ..metric_table import METRICS
from ..wording import images_of, plural
from . import significance
from .collect import AccuracyTable, Leaderboard, Row, TimingTable, _scalar_items, is_random_weights

FORMATS = ("md", "csv", "latex", "html")
#: Marks rows scored from maps dbdbench did not produce.
SCORED_MARK = "†"
UNDEFINED_MARK = "‡"


@dataclass
class Cell:
    text: str
    bold: bool = False
    code: bool = False


@dataclass
class Grid:
    header: list[str]
    rows: list[list[Cell]]
    numeric: list[bool]


@dataclass
class Section:
    heading: str
    level: int = 2
    paragraphs: list[str] = field(default_factory=list)
    grid: Grid | None = None
    notes: list[str] = field(default_factory=list)
    footer: str = ""
    code: list[str] = field(default_factory=list)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _best(values: list[str], better: str) -> set[int]:
    """Indices of the best displayed value (ties share it); none when there is nothing to compare."""
    numbers = [(i, float(v)) for i, v in enumerate(values) if v not in ("-", "")]
    if len(numbers) < 2:
        return set()
    target = max(v for _, v in numbers) if better == "higher" else min(v for _, v in numbers)
    return {i for i, v in numbers if v == target}


# ------------------------------------------------------------------ the document, format-neutral


def image_count(table: AccuracyTable) -> str:
    """``5 of 704 images`` for a partial copy of a release, ``20 of 200 images`` for a ``--limit``/``--subset`` run,
    else ``100 images`` (:func:`dbdbench.wording.images_of`)."""
    return images_of(table.record, table.n_images)


def _value(v) -> str:
    return json.dumps(v) if v is None or isinstance(v, bool) else str(v)


def protocol_text(protocol: dict) -> str:
    options = ", ".join(f"`{k}={_value(v)}`" for k, v in _scalar_items(protocol))
    description = str(protocol.get("description") or "").strip()
    text = f"Protocol `{protocol.get('name')}`: {description} Options: {options}."
    if protocol.get("source"):
        text += f" Reproduces the evaluation code `{protocol['source']}`."
    if protocol.get("expects"):
        text += f" It expects: {str(protocol['expects']).rstrip('.')}."
    return text


def method_cell(row: Row) -> Cell:
    return Cell(row.row + (SCORED_MARK if row.scored_maps else ""), code=True)


def accuracy_sections(table: AccuracyTable, ci: bool = False) -> list[Section]:
    """The table of one dataset, split, protocol and file list; ``ci``: each value with its interval, and rows not
    significantly different from each column's best marked (:mod:`.significance`)."""
    metrics, undefined = table.metrics, table.undefined
    split = f" · split `{table.split}`" if table.split else ""
    section = Section(f"{table.dataset}{split} · {image_count(table)} · protocol `{table.protocol.get('name')}`")
    files = f" (file list `{table.file_list_hash}`)" if table.file_list_hash else ""
    section.paragraphs = [f"**{image_count(table)}**{files}. " + protocol_text(table.protocol)]
    header = ["method", "kind", "paper", "training data"] + [
        f"{m} {METRICS[m].arrow}{UNDEFINED_MARK if m in undefined else ''}" for m in metrics
    ]
    columns = {m: [_fmt(r.metrics.get(m)) for r in table.rows] for m in metrics}
    best = {m: _best(columns[m], METRICS[m].better) for m in metrics}
    stats = significance.table_stats(table, columns) if ci else None
    rows = []
    for i, r in enumerate(table.rows):
        texts = [significance.cell_text(stats, r.row, m, columns[m][i]) if stats else columns[m][i] for m in metrics]
        rows.append(
            [method_cell(r), Cell(r.kind), Cell(r.paper), Cell(r.training_data)]
            + [Cell(text, bold=i in best[m]) for m, text in zip(metrics, texts)]
        )
    section.grid = Grid(header, rows, [False] * 4 + [True] * len(metrics))
    if any(r.scored_maps for r in table.rows):
        section.notes.append(
            f"{SCORED_MARK} scored from precomputed maps with `dbdbench score` (e.g. the authors' released maps), not predicted by dbdbench."
        )
    for m, note in undefined.items():
        if m in metrics:
            section.notes.append(f"{UNDEFINED_MARK} `{m}`: {note}.")
    for r in table.rows:
        if r.n_skipped:
            section.notes.append(f"`{r.row}`: {plural(r.n_skipped, 'image')} skipped (listed in its result file).")
        if is_random_weights(r.method):
            section.notes.append(f"`{r.row}`: untrained network with random weights; its accuracy means nothing.")
    if stats is not None:
        section.notes += significance.notes(stats, [r.row for r in table.rows])
    section.footer = _footer(table.versions, table.revisions)
    section.code = table.commands
    out = [section]
    if table.has_coc:
        out += coc_sections(table)
    return out


#: The per-band rates the CoC tables show.
BandRate = Literal["predicted_in_focus", "accuracy"]


def coc_sections(table: AccuracyTable) -> list[Section]:
    """On datasets that know each pixel's circle of confusion (synth): how much blur before a method notices."""
    rows = [r for r in table.rows if r.result.coc_bands]
    first = rows[0].result.coc_bands or []
    bands = [b["band_px"] for b in first]
    pixels = {b["band_px"]: b.get("pixels") for b in first}
    out = []
    tables: tuple[tuple[BandRate, str, str | None, str], ...] = (
        (
            "predicted_in_focus",
            "Fraction of pixels predicted in focus, by true circle of confusion",
            None,
            "Pixels of all images pooled by their true CoC diameter (px); a pixel is predicted in focus when its "
            "score is at or above the protocol's fixed threshold. Near 1 in the sharp band, it should fall to 0 as "
            "the CoC grows: where it falls is how much blur a method needs before it notices.",
        ),
        (
            "accuracy",
            "Accuracy by true circle of confusion",
            "higher",
            "Fraction of pixels of each CoC band classified correctly (in focus or not) at the fixed threshold.",
        ),
    )
    for key, title, better, blurb in tables:
        section = Section(title, level=3, paragraphs=[blurb])
        header = ["method"] + [f"CoC {b} px" for b in bands]
        cols = [[_fmt(_band(r, b, key)) for r in rows] for b in bands]
        best = [_best(c, better) if better else set() for c in cols]
        grid_rows = [
            [method_cell(r)] + [Cell(cols[j][i], bold=i in best[j]) for j in range(len(bands))]
            for i, r in enumerate(rows)
        ]
        section.grid = Grid(header, grid_rows, [False] + [True] * len(bands))
        section.notes.append("Pixels per band: " + ", ".join(f"{b}: {pixels[b]}" for b in bands) + ".")
        out.append(section)
    return out


def _band(row: Row, band: str, key: BandRate) -> float | None:
    for b in row.result.coc_bands or []:
        if b.get("band_px") == band:
            return b.get(key)
    return None


def _ms(summary: dict | None) -> str:
    if not summary:
        return "-"
    return f"{summary['median_ms']:.1f} ({summary['p90_ms']:.1f})"


def timing_sections(table: TimingTable) -> list[Section]:
    section = Section(f"Timing on `{table.device}`: {table.machine}")
    section.paragraphs = [
        "Latency of one image after warm-up, measured by `dbdbench bench`, median (p90) in milliseconds. "
        "End to end: the method's `predict()` on an in-memory H x W x 3 uint8 image (no file decoding or "
        "writing). Model only: the network alone, for methods with a separable model."
    ]
    rows = []
    for rid, rec, _ in table.rows:
        size = rec.input or {}
        weights = "random" if rec.random_weights else ("trained" if rec.method.get("kind") == "learned" else "-")
        rows.append(
            [
                Cell(rid, code=True),
                Cell(str(rec.method.get("kind") or "-")),
                Cell(f"{size.get('height')}x{size.get('width')}"),
                Cell(str(rec.threads or "-")),
                Cell(_ms(rec.model)),
                Cell(_ms(rec.end_to_end)),
                Cell(f"{rec.repeats} / {rec.warmup}"),
                Cell(weights),
                Cell(str(rec.torch or "-")),
            ]
        )
    section.grid = Grid(
        [
            "method",
            "kind",
            "input",
            "threads",
            "model only, ms",
            "end to end, ms",
            "repeats / warm-up",
            "weights",
            "torch",
        ],
        rows,
        [False, False, False, True, True, True, True, False, False],
    )
    if any(rec.random_weights for _, rec, _ in table.rows):
        section.notes.append(
            "weights random: no trained weights exist for that variant; the network ran untrained, for timing only."
        )
    versions = sorted({str(rec.environment.dbdbench) for _, rec, _ in table.rows})
    section.footer = _footer(versions, table.revisions)
    section.code = table.commands
    return [section]


def _footer(versions: list[str], revisions: list[str]) -> str:
    return f"dbdbench {', '.join(versions)}, git {', '.join(revisions)}. Reproduce with:"


def document(board: Leaderboard) -> tuple[str, list[str], list[Section]]:
    title = "Leaderboard" + (f": {', '.join(board.datasets)}" if board.datasets else "")
    intro = [
        "One accuracy table per dataset, split, protocol and file list; timing (from `dbdbench bench`) in "
        "separate tables per device, after the accuracy tables. Every row comes from a result file that records "
        "the protocol, the dataset's file list, the method with its options and the command that produced it "
        "(see docs/results.md). ↑ higher is better, ↓ lower is better (each metric's direction from "
        "`dbdbench list metrics`); the best value of each column is in bold."
    ]
    sections: list[Section] = []
    for table in board.accuracy:
        sections += accuracy_sections(table, ci=board.ci)
    for timing in board.timing:
        sections += timing_sections(timing)
    return title, intro, sections


# ------------------------------------------------------------------ formats


_INLINE = re.compile(r"(`[^`]*`|\*\*[^*]+\*\*)")


def _inline(text: str, code, bold, plain) -> str:
    parts = []
    for token in _INLINE.split(text):
        if token.startswith("`") and token.endswith("`") and len(token) >= 2:
            parts.append(code(token[1:-1]))
        elif token.startswith("**") and token.endswith("**") and len(token) >= 4:
            parts.append(bold(token[2:-2]))
        elif token:
            parts.append(plain(token))
    return "".join(parts)


def generated_line(command: str) -> str:
    return (
        f"Generated by `{command}`; do not edit by hand: `dbdbench leaderboard --check` "
        "verifies that it matches the result files."
    )


def render(board: Leaderboard, fmt: str = "md", command: str | None = None) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    return {"md": render_markdown, "csv": render_csv, "latex": render_latex, "html": render_html}[fmt](board, command)


def render_markdown(board: Leaderboard, command: str | None = None) -> str:
    title, intro, sections = document(board)
    out = []
    if command:
        out += [f"<!-- {generated_line(command)} -->", ""]
    out += [f"# {title}", ""] + [p + "\n" for p in intro]
    for s in sections:
        out += ["#" * s.level + " " + s.heading, ""]
        out += [p + "\n" for p in s.paragraphs]
        if s.grid:
            out += _md_grid(s.grid) + [""]
        out += [n + "  " if i < len(s.notes) - 1 else n for i, n in enumerate(s.notes)] + ([""] if s.notes else [])
        if s.footer:
            out += [s.footer, "", "```", *s.code, "```", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _md_cell(c: Cell) -> str:
    text = c.text.replace("|", "\\|")
    if c.code:
        text = f"`{text}`"
    return f"**{text}**" if c.bold else text


def _md_grid(grid: Grid) -> list[str]:
    lines = ["| " + " | ".join(grid.header) + " |", "|" + "|".join("---:" if n else "---" for n in grid.numeric) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in grid.rows]
    return lines


def render_csv(board: Leaderboard, command: str | None = None) -> str:
    """One flat table: a row per (accuracy table, method) and a row per timing record, with a ``table`` column."""
    buf = io.StringIO()
    if command:
        buf.write(f"# {generated_line(command)}\n")
    metrics = list(METRICS)
    fields = (
        [
            "table",
            "dataset",
            "split",
            "protocol",
            "file_list_hash",
            "n_images",
            "n_expected",
            "method",
            "kind",
            "paper",
            "training_data",
            "scored_maps",
        ]
        + metrics
        + [
            "device",
            "machine",
            "input",
            "threads",
            "model_median_ms",
            "model_p90_ms",
            "median_ms",
            "p90_ms",
            "random_weights",
        ]
    )
    if board.ci:  # each metric's interval and whether it is not significantly different from the column's best
        fields += [f"{m}_{k}" for m in metrics for k in ("ci_lo", "ci_hi", "tied_with_best")]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for t in board.accuracy:
        shown = {m: [_fmt(r.metrics.get(m)) for r in t.rows] for m in t.metrics}
        stats = significance.table_stats(t, shown) if board.ci else None
        for r in t.rows:
            row = {
                "table": "accuracy",
                "dataset": t.dataset,
                "split": t.split,
                "protocol": t.protocol.get("name"),
                "file_list_hash": t.file_list_hash,
                "n_images": t.n_images,
                "n_expected": t.n_expected,
                "method": r.row,
                "kind": r.method.get("kind"),
                "paper": r.method.get("paper"),
                "training_data": r.training_data,
                "scored_maps": r.scored_maps,
            }
            row.update({m: repr(float(r.metrics[m])) for m in metrics if m in r.metrics})
            if stats is not None:
                for m in metrics:
                    lo_hi = stats.intervals.get((r.row, m))
                    if lo_hi is not None:
                        row[f"{m}_ci_lo"], row[f"{m}_ci_hi"] = repr(lo_hi[0]), repr(lo_hi[1])
                    if (r.row, m) in stats.tied:
                        row[f"{m}_tied_with_best"] = stats.tied[(r.row, m)]
            writer.writerow(row)
    for tt in board.timing:
        for rid, rec, _ in tt.rows:
            size = rec.input or {}
            model = rec.model or {}
            writer.writerow(
                {
                    "table": "timing",
                    "method": rid,
                    "kind": rec.method.get("kind"),
                    "paper": rec.method.get("paper"),
                    "device": tt.device,
                    "machine": tt.machine,
                    "input": f"{size.get('height')}x{size.get('width')}",
                    "threads": rec.threads,
                    "model_median_ms": model.get("median_ms"),
                    "model_p90_ms": model.get("p90_ms"),
                    "median_ms": rec.median_ms,
                    "p90_ms": rec.p90_ms,
                    "random_weights": bool(rec.random_weights),
                }
            )
    return buf.getvalue()


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "↑": r"$\uparrow$",
    "↓": r"$\downarrow$",
    "†": r"\textsuperscript{\dag}",
    "‡": r"\textsuperscript{\ddag}",
    "·": r"$\cdot$",
    "≈": r"$\approx$",
}


def _tex(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def _tex_inline(text: str) -> str:
    return _inline(text, lambda s: r"\texttt{" + _tex(s) + "}", lambda s: r"\textbf{" + _tex(s) + "}", _tex)


def render_latex(board: Leaderboard, command: str | None = None) -> str:
    """A LaTeX fragment (needs ``booktabs``): one ``table`` per section, notes below it."""
    title, _intro, sections = document(board)
    out = []
    if command:
        out += [f"% {generated_line(command)}", ""]
    out += [f"% {title}", ""]
    for s in sections:
        out += [r"\begin{table}[htbp]", r"\centering", r"\small"]
        out += [r"\caption{" + _tex_inline(s.heading) + "}"]
        if s.grid:
            cols = "".join("r" if n else "l" for n in s.grid.numeric)
            out += [
                r"\begin{tabular}{" + cols + "}",
                r"\toprule",
                " & ".join(_tex(h) for h in s.grid.header) + r" \\",
                r"\midrule",
            ]
            for row in s.grid.rows:
                cells = []
                for c in row:
                    text = r"\texttt{" + _tex(c.text) + "}" if c.code else _tex(c.text)
                    cells.append(r"\textbf{" + text + "}" if c.bold else text)
                out.append(" & ".join(cells) + r" \\")
            out += [r"\bottomrule", r"\end{tabular}"]
        notes = s.paragraphs + s.notes
        if notes:
            out += [r"\par\footnotesize " + " ".join(_tex_inline(n) for n in notes)]
        out += [r"\end{table}", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _html_inline(text: str) -> str:
    return _inline(
        text, lambda s: f"<code>{html.escape(s)}</code>", lambda s: f"<strong>{html.escape(s)}</strong>", html.escape
    )


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:75em;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:.25em .6em}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}"
    ".notes{font-size:.9em;color:#444}pre{background:#f6f6f6;padding:.5em;overflow-x:auto}"
)


def render_html(board: Leaderboard, command: str | None = None) -> str:
    """A self-contained page (no external resources)."""
    title, intro, sections = document(board)
    out = ["<!DOCTYPE html>"]
    if command:
        out.append(
            f"<!-- {generated_line(command).replace('--', '&#45;&#45;')} -->"
        )  # '--' may not appear in a comment
    out += [
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    out += [f"<p>{_html_inline(p)}</p>" for p in intro]
    for s in sections:
        out.append(f"<h{s.level}>{_html_inline(s.heading)}</h{s.level}>")
        out += [f"<p>{_html_inline(p)}</p>" for p in s.paragraphs]
        if s.grid:
            out.append(
                "<table><thead><tr>"
                + "".join(f"<th>{html.escape(h)}</th>" for h in s.grid.header)
                + "</tr></thead><tbody>"
            )
            for row in s.grid.rows:
                cells = []
                for c, numeric in zip(row, s.grid.numeric):
                    text = html.escape(c.text)
                    text = f"<code>{text}</code>" if c.code else text
                    text = f"<strong>{text}</strong>" if c.bold else text
                    cells.append(f'<td class="num">{text}</td>' if numeric else f"<td>{text}</td>")
                out.append("<tr>" + "".join(cells) + "</tr>")
            out.append("</tbody></table>")
        if s.notes:
            out.append('<p class="notes">' + "<br>".join(_html_inline(n) for n in s.notes) + "</p>")
        if s.footer:
            out += [
                f'<p class="notes">{_html_inline(s.footer)}</p>',
                "<pre>" + html.escape("\n".join(s.code)) + "</pre>",
            ]
    out.append("</body></html>")
    return "\n".join(out) + "\n"
