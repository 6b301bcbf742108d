"""The generated tables of docs/reliability.md: the case counts and table from the case report the suite writes
(``DBDBENCH_RELIABILITY_REPORT``), and the memory table from ``benchmarks/bench_memory.py``'s JSON.

    python tests/reliability/tables.py     # rewrites the tables of docs/reliability.md from the committed JSON

``test_doc_tables.py`` checks that the page holds exactly what this renders.
"""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "reliability.md"
CASES_JSON = REPO / "benchmarks" / "results" / "reliability_cases.json"
MEMORY_JSON = REPO / "benchmarks" / "results" / "memory.json"


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def cases_table(report: dict) -> str:
    """Counts, counts per category, then every case."""
    out = [
        "| | count |",
        "|---|---|",
        f"| cases tried | **{report['tried']}** |",
        f"| survived (expected behaviour observed) | **{report['survived']}** |",
        f"| results lost | **{report['results_lost']}** |",
        "",
    ]
    categories: dict[str, list[int]] = {}
    for c in report["cases"]:
        row = categories.setdefault(c["category"], [0, 0, 0])
        row[0] += 1
        row[1] += c["survived"]
        row[2] += c["results_lost"]
    out += ["| category | tried | survived | results lost |", "|---|---|---|---|"]
    out += [f"| {k} | {a} | {b} | {lost} |" for k, (a, b, lost) in categories.items()]
    out += [
        "",
        "### Every case",
        "",
        "| # | category | case | command | expected | observed | ok |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, c in enumerate(report["cases"], 1):
        out.append(
            f"| {i} | {_cell(c['category'])} | {_cell(c['case'])} | `{_cell(c['command'])}` | {_cell(c['expected'])} | "
            f"{_cell(c['observed'])} | {'yes' if c['survived'] else '**no**'} |"
        )
    return "\n".join(out)


def memory_table(memory: dict) -> str:
    """Peak RSS per number of maps scored, and the machine it was measured on."""
    out = ["| maps scored | peak RSS (MiB) | wall (s) | f_max |", "|---|---|---|---|"]
    out += [f"| {r['n_maps']} | {r['peak_rss_mib']} | {r['wall_s']} | {r['f_max']:.4f} |" for r in memory["runs"]]
    machine = memory["machine"]
    out += [
        "",
        f"Machine: {machine['platform']}, Python {machine['python']}, {machine['cpu_count']} CPUs; {memory['created']}.",
    ]
    return "\n".join(out)


def put(text: str, name: str, body: str) -> str:
    """``text`` with what stands between ``<!-- name:start -->`` and ``<!-- name:end -->`` replaced by ``body``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    a, b = text.index(start), text.index(end)
    return text[: a + len(start)] + "\n" + body + "\n" + text[b:]


def rendered(doc: str, cases_json: Path = CASES_JSON, memory_json: Path = MEMORY_JSON) -> str:
    """The page ``doc`` with its generated tables made from the JSON files (the memory table only where its
    JSON exists)."""
    text = put(doc, "cases", cases_table(json.loads(cases_json.read_text(encoding="utf-8"))))
    if memory_json.is_file():
        text = put(text, "memory", memory_table(json.loads(memory_json.read_text(encoding="utf-8"))))
    return text


if __name__ == "__main__":
    DOC.write_text(rendered(DOC.read_text(encoding="utf-8")), encoding="utf-8")
