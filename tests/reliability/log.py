"""The case log: every case the suite tries, what it expected and what it observed, for docs/reliability.md."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

#: The report's categories, in the order its tables list them (whichever order the modules ran in).
CATEGORIES = (
    "unreadable input",
    "odd valid input",
    "mismatch",
    "method failure",
    "interruption",
    "concurrency",
    "arguments and other commands",
    "resources",
)
_TEMP = re.compile(r"\S*/pytest-\d+/[^/\s]+")


def untemp(text: str) -> str:
    """Temporary paths as ``$TMP``: the report reads the same on every machine."""
    return _TEMP.sub("$TMP", text)


def short(text: str, n: int = 160) -> str:
    """One line of at most ``n`` characters, temporary paths as ``$TMP``."""
    text = untemp(" ".join(text.split()))
    return text if len(text) <= n else text[: n - 1] + "…"


@dataclass
class Case:
    category: str
    case: str
    command: str
    expected: str
    observed: str = "test did not finish"
    survived: bool = False
    results_lost: int = 0

    def ok(self, observed: str, lost: int = 0) -> None:
        self.observed, self.survived, self.results_lost = untemp(observed), True, lost


CASES: list[Case] = []


def case(category: str, name: str, command: str, expected: str) -> Case:
    """Log a case (as not survived until ``ok`` is called on it)."""
    assert category in CATEGORIES, category
    c = Case(category, name, command, expected)
    CASES.append(c)
    return c


def write_report(target: Path) -> None:
    """The case table as JSON: counts, then every case, grouped by category in ``CATEGORIES`` order."""
    rows = [
        {k: untemp(v) if isinstance(v, str) else v for k, v in asdict(c).items()}
        for c in sorted(CASES, key=lambda c: CATEGORIES.index(c.category))
    ]
    summary = {
        "tried": len(rows),
        "survived": sum(r["survived"] for r in rows),
        "results_lost": sum(r["results_lost"] for r in rows),
        "cases": rows,
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
