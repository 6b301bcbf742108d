"""The metric table (dbdbench.metric_table) is complete, and what names, orders or ranks metrics reads it."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import numpy as np
import pytest

from dbdbench import metric_table
from dbdbench.errors import DbdbenchError
from dbdbench.metric_table import (
    COLUMN_DIRECTIONS,
    CORE_METRICS,
    METRICS,
    RANKING_METRIC,
    RESULT_ORDER,
    defined_by,
    direction,
)
from dbdbench.metrics import Evaluator, prepare
from dbdbench.protocols import PROTOCOLS, available_protocols

PACKAGE = Path(metric_table.__file__).resolve().parent
REPO = PACKAGE.parent


def _pair(protocol):
    """A 320 x 320 map and GT (the size every built-in protocol accepts), half in focus."""
    rng = np.random.default_rng(0)
    gt = np.zeros((320, 320), np.uint8)
    gt[:, :160] = 255
    score = np.clip(gt * 0.7 + rng.random(gt.shape) * 80, 0, 255)
    return prepare(score, gt, protocol)


@pytest.mark.parametrize("name", list(available_protocols()))
def test_every_registered_protocol_reports_exactly_the_tables_metrics(name):
    protocol = available_protocols()[name]
    evaluator = Evaluator(protocol)
    evaluator.step("a", _pair(protocol))
    assert list(evaluator.results()["metrics"]) == list(RESULT_ORDER)
    assert set(evaluator.resampling()) == set(METRICS), "each metric needs a rule to recompute it for --ci"
    assert set(protocol.source_metrics) <= set(METRICS)
    assert protocol.extra_metrics() == [k for k in RESULT_ORDER if k not in protocol.source_metrics]


def test_the_built_in_presets_take_their_source_metrics_from_the_table():
    for name, protocol in PROTOCOLS.items():
        assert protocol.source_metrics == defined_by(name)
    named = {p for metric in METRICS.values() for p in metric.defined_by}
    assert named <= set(PROTOCOLS), "defined_by names built-in protocols only"


def test_orders_and_derived_names_cover_the_table():
    assert sorted(RESULT_ORDER) == sorted(METRICS)
    assert CORE_METRICS == ("mae", "f_max", "f_mean", "f_adaptive", "f_fixed")
    assert RANKING_METRIC == "f_max"
    for name, metric in METRICS.items():
        assert metric.better in ("higher", "lower") and metric.definition, name
        assert direction(name) == metric.better
        assert metric.arrow == ("↑" if metric.better == "higher" else "↓")
    assert direction("predict_ms") == "lower" and direction("gt_positive_fraction") is None


def test_every_per_image_column_has_a_direction_and_an_unknown_one_has_none():
    """Each column a per_image.csv can have (an Evaluator's per-image record, plus ``run``'s predict_s) is in the
    table; a pooled metric's false positives and negatives are lower is better; an unlisted column is refused."""
    record = Evaluator(PROTOCOLS["dbd"]).step("a", _pair(PROTOCOLS["dbd"]))
    unlisted = [c for c in (*record, "predict_s") if c not in METRICS and c not in COLUMN_DIRECTIONS]
    assert not unlisted, f"per-image columns without a direction in metric_table.COLUMN_DIRECTIONS: {unlisted}"
    assert direction("iou_fp") == direction("iou_fn") == "lower" and direction("iou_tp") == "higher"
    assert direction("f_fixed_precision") == "higher" and direction("n_pixels") is None
    with pytest.raises(DbdbenchError, match="no per-image column 'iou_fq'"):
        direction("iou_fq")


def test_rank_by_a_lower_is_better_column_picks_the_fewest_as_best():
    from types import SimpleNamespace

    from dbdbench.plots import pick_images

    rows = [{"stem": stem, "iou_fp": fp} for stem, fp in (("a", 30.0), ("b", 10.0), ("c", 20.0))]
    entry = SimpleNamespace(row="m", per_image=lambda: rows, per_image_path=Path("per_image.csv"))
    picks = pick_images(SimpleNamespace(entries=[entry]), rank_by="iou_fp")
    assert [stem for stem, _ in picks] == ["b", "c", "a"] and picks[0][1].startswith("best m")
    with pytest.raises(DbdbenchError, match="--rank-by iou_fq: no per-image column"):
        pick_images(SimpleNamespace(entries=[entry]), rank_by="iou_fq")


def test_list_metrics_shows_the_table():
    from click.testing import CliRunner

    from dbdbench.cli import cli

    rows = json.loads(CliRunner().invoke(cli, ["list", "metrics", "--json"]).stdout)
    assert rows == [{"name": k, "meaning": m.definition, "better": m.better} for k, m in METRICS.items()]


#: The modules that name, order or rank metrics; each must read the table.
CONSUMERS = (
    "protocols.py",
    "metrics/__init__.py",
    "plots.py",
    "report/__init__.py",
    "leaderboard/collect.py",
    "leaderboard/render.py",
    "leaderboard/significance.py",
    "leaderboard/runs.py",
    "cli/common.py",
    "cli/compare.py",
    "cli/info.py",
    "cli/side_by_side.py",
    "results.py",
)


def _imports_table(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.ImportFrom) and (node.module or "").endswith("metric_table") for node in ast.walk(tree)
    )


@pytest.mark.parametrize("module", CONSUMERS)
def test_consumer_reads_the_table(module):
    assert _imports_table(PACKAGE / module), f"dbdbench/{module} does not import dbdbench.metric_table"


def test_no_module_tells_a_direction_from_a_name():
    """No comparison with a metric's name decides an arrow or a direction, and no second list of metric names or
    directions exists (the trap of PySODEvalToolkit: "lower is better" read off a name)."""
    names = "|".join(METRICS)
    by_name = re.compile(rf"""(==|!=)\s*['"]({names})['"]\s*else|['"](↑|↓)['"]\s*if\s+\w+\s*==""")
    second_list = re.compile(
        r"LOWER_IS_BETTER|HIGHER_IS_BETTER|\(\s*" + r"\s*,\s*".join(f'"{k}"' for k in RESULT_ORDER)
    )
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "metric_table.py":
            continue
        text = path.read_text(encoding="utf-8")
        if by_name.search(text) or second_list.search(text):
            offenders.append(rel)
    assert not offenders, offenders


def test_a_direction_changed_in_the_table_changes_the_tables_and_the_picks(monkeypatch):
    """Flip mae to higher-is-better in the table: the leaderboard's arrows and the figures' picks follow."""
    from dbdbench.leaderboard import collect, render

    monkeypatch.setitem(METRICS, "mae", METRICS["mae"]._replace(better="higher"))
    board, _, _ = collect([REPO / "leaderboards" / "results" / "synth"], datasets=["synth"], timing=False)
    text = render(board, "md")
    assert "| mae ↑ |" in text and "mae ↓" not in text
    assert direction("mae") == "higher"
