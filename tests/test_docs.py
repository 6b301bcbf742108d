"""The plugin author's documentation cannot rot: every hook documented with its exact signature,
the dataset and training contracts complete, and every file and command on those pages run as written."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dbdbench import hookspecs
from dbdbench.datasets.base import Dataset, Listing, Sample
from dbdbench.training import TrainRequest

REPO = Path(__file__).resolve().parent.parent
HOOKS_MD = REPO / "docs" / "hooks.md"
PLUGINS_MD = REPO / "docs" / "plugins.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
#: A fenced block whose first line is only "# <relative path>" is that file, verbatim.
FILE_LINE = re.compile(r"^# ([\w.-]+(?:/[\w.-]+)*\.(?:py|toml|md|txt))\n")


def doc_files(markdown: Path) -> dict[str, str]:
    files = {}
    for _, body in FENCE.findall(markdown.read_text(encoding="utf-8")):
        m = FILE_LINE.match(body)
        if m:
            files[m.group(1)] = body
    return files


def doc_commands(markdown: Path) -> list[list[str]]:
    """Every ``dbdbench ...`` command line of the page's bash blocks (continuations joined, comments cut)."""
    commands = []
    for lang, body in FENCE.findall(markdown.read_text(encoding="utf-8")):
        if lang != "bash":
            continue
        for line in body.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            while words and re.match(r"^[A-Z_]+=", words[0]):
                words = words[1:]  # VAR=value prefixes
            if words and words[0] == "dbdbench":
                commands.append(words[1:])
    return commands


def cli(*args, env=None, check=True, cwd=None):
    full = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "dbdbench.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=full,
        timeout=300,
        cwd=cwd,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"dbdbench {' '.join(map(str, args))}: exit {proc.returncode}: {proc.stderr}")
    return proc


@pytest.fixture
def photos(tmp_path):
    """Four photos, sharp left part and blurred right part, GT in-focus white."""
    from scipy import ndimage

    rng = np.random.default_rng(1)
    images, gts = tmp_path / "photos", tmp_path / "gt"
    images.mkdir(), gts.mkdir()
    for i in range(4):
        tex = rng.random((64, 96, 3)) * 255
        cut = 30 + 10 * i
        img = tex.copy()
        img[:, cut:] = ndimage.gaussian_filter(tex, (3, 3, 0))[:, cut:]
        gt = np.zeros((64, 96), np.uint8)
        gt[:, :cut] = 255
        Image.fromarray(img.astype(np.uint8)).save(images / f"p{i}.png")
        Image.fromarray(gt).save(gts / f"p{i}.png")
    return images, gts


# ------------------------------------------------------------------ docs/hooks.md against the code


def hookspec_signatures() -> dict[str, str]:
    specs = {}
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
        if hasattr(fn, "dbdbench_spec"):
            specs[name] = ", ".join(inspect.signature(fn).parameters)
    return specs


def test_every_hook_is_documented_with_its_signature():
    specs = hookspec_signatures()
    assert {"register_methods", "register_datasets", "register_trainers", "register_commands"} <= set(specs)
    documented = dict(re.findall(r"^## `(\w+)\(([^)]*)\)`$", HOOKS_MD.read_text(encoding="utf-8"), re.M))
    for name, params in specs.items():
        assert name in documented, (
            f"hook {name} is not documented in docs/hooks.md (expected a heading '## `{name}({params})`')"
        )
        assert documented[name].replace(" ", "") == params.replace(" ", ""), (
            f"docs/hooks.md documents {name}({documented[name]}) but the hookspec is {name}({params})"
        )
    stale = set(documented) - set(specs)
    assert not stale, f"docs/hooks.md documents hooks that do not exist: {sorted(stale)}"
    plugins_md = PLUGINS_MD.read_text(encoding="utf-8")
    for name, params in specs.items():
        assert f"`{name}({params})`" in plugins_md, f"docs/plugins.md's hook table lacks {name}({params})"


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end >= 0 else None]


def test_training_request_is_documented_field_by_field():
    text = section(HOOKS_MD.read_text(encoding="utf-8"), "## The training request")
    names = [f.name for f in dataclasses.fields(TrainRequest)]
    names += [n for n, v in vars(TrainRequest).items() if isinstance(v, property)]
    missing = [n for n in names if f"| `{n}` |" not in text]
    assert not missing, f"TrainRequest fields not in docs/hooks.md's table: {missing}"


def test_dataset_contract_is_documented():
    text = section(HOOKS_MD.read_text(encoding="utf-8"), "## The dataset contract")
    # the class attributes a subclass sets: ClassVars, and gt_polarity (a class default an instance may override)
    attributes = [n for n, t in Dataset.__annotations__.items() if "ClassVar" in str(t) or n in vars(Dataset)]
    assert {"name", "gt_polarity", "splits"} <= set(attributes)
    missing = [n for n in attributes if f"| `{n}` |" not in text]
    assert not missing, f"Dataset class attributes not in docs/hooks.md: {missing}"
    public = [
        n
        for n, v in vars(Dataset).items()
        if not n.startswith("_") and callable(getattr(Dataset, n)) and n not in attributes
    ]
    missing = [n for n in public if f"`{n}(" not in text]
    assert not missing, f"Dataset methods not in docs/hooks.md: {missing}"
    for cls in (Sample, Listing):
        missing = [f.name for f in dataclasses.fields(cls) if f"`{f.name}`" not in text]
        assert not missing, f"{cls.__name__} fields not in docs/hooks.md: {missing}"


# ------------------------------------------------------------------ the pages' files and commands, run


def test_plugins_md_snippets_install_and_run(tmp_path, photos):
    images, gts = photos
    files = doc_files(PLUGINS_MD)
    assert {"dbdbench-sharpness/pyproject.toml", "dbdbench-sharpness/src/dbdbench_sharpness/plugin.py"} <= set(files)
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    # Installed as the page says (pip install of the folder), into a private target so nothing leaks into
    # the environment: no network (--no-deps, --no-build-isolation use what is installed), no uninstall needed.
    site = tmp_path / "site"
    pip = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(site),
            str(tmp_path / "dbdbench-sharpness"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert pip.returncode == 0, pip.stderr
    env = {"PYTHONPATH": str(site), "DBDBENCH_STRICT_PLUGINS": "1"}

    plugins = {p["name"]: p for p in json.loads(cli("plugins", "--json", env=env).stdout)}
    assert plugins["sharpness"]["source"] == "dbdbench-sharpness" and plugins["sharpness"]["version"] == "0.1.0"
    assert plugins["sharpness"]["status"] == "loaded" and plugins["sharpness"]["methods"] == ["sharpness"]

    runs = tmp_path / "runs"
    for extra in ((), ("--option", "window=15")):
        result = json.loads(
            cli(
                "run",
                "--method",
                "sharpness",
                "--images",
                images,
                "--gt",
                gts,
                "--gt-polarity",
                "focus",
                "--out",
                runs,
                "--json",
                *extra,
                env=env,
            ).stdout
        )
        assert result["method"]["plugin"] == "sharpness" and result["metrics"]["f_max"] > 0.8
    assert result["method"]["options"]["window"] == 15  # converted from the string "15"
    assert {p.name for p in runs.iterdir()} == {"sharpness", "sharpness@window=15"}

    summary = json.loads(cli("report", runs, "--out", tmp_path / "report", "--json", env=env).stdout)
    assert summary["groups"][0]["methods"] == 2 and summary["groups"][0]["images"] == 4
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert "sharpness@window=15" in page

    # the unpackaged route of the same page
    dev = {
        "PYTHONPATH": str(tmp_path / "dbdbench-sharpness" / "src"),
        "DBDBENCH_EXTRA_PLUGINS": "dbdbench_sharpness.plugin",
        "DBDBENCH_STRICT_PLUGINS": "1",
    }
    methods = {m["id"] for m in json.loads(cli("list", "methods", "--json", env=dev).stdout)}
    assert "sharpness" in methods


def test_hooks_md_examples_load_and_run(tmp_path, photos):
    images, gts = photos
    files = doc_files(HOOKS_MD)
    assert {"my_dataset_plugin.py", "my_trainer_plugin.py", "my_command_plugin.py"} <= set(files)
    for rel, text in files.items():
        (tmp_path / rel).write_text(text, encoding="utf-8")
    env = {
        "PYTHONPATH": str(tmp_path),
        "DBDBENCH_STRICT_PLUGINS": "1",
        "DBDBENCH_EXTRA_PLUGINS": "my_dataset_plugin,my_trainer_plugin,my_command_plugin",
    }

    assert cli("hello", "plugin author", env=env).stdout == "hello, plugin author\n"

    train = tmp_path / "train"
    summary = json.loads(
        cli(
            "train",
            "--method",
            "tiny-learned",
            "--dataset",
            "folder",
            "--dataset-option",
            f"images={images}",
            "--dataset-option",
            f"gt={gts}",
            "--dataset-option",
            "gt_polarity=focus",
            "--steps",
            "3",
            "--out",
            train,
            "--json",
            env=env,
        ).stdout
    )
    weights = Path(summary["weights"])
    assert weights == train / "weights.json" and json.loads(weights.read_text())["scale"] > 0

    # the dataset adapter of the page, on its documented layout (blurred-white masks named <stem>_mask.png)
    root = tmp_path / "mydata"
    (root / "test" / "photos").mkdir(parents=True), (root / "test" / "masks").mkdir(parents=True)
    for p in sorted(images.iterdir()):
        Image.open(p).save(root / "test" / "photos" / f"{p.stem}.jpg", quality=95)
        Image.fromarray(255 - np.asarray(Image.open(gts / p.name))).save(root / "test" / "masks" / f"{p.stem}_mask.png")
    assert "mydata" in {d["name"] for d in json.loads(cli("list", "datasets", "--json", env=env).stdout)}
    result = json.loads(
        cli(
            "run",
            "--method",
            "tiny-learned",
            "--dataset",
            "mydata",
            "--root",
            root,
            "--option",
            f"weights={weights}",
            "--out",
            tmp_path / "runs",
            "--json",
            env=env,
        ).stdout
    )
    assert result["n_images"] == 4 and result["dataset"]["gt_polarity"] == "blur" and result["metrics"]["f_max"] > 0.8
    assert result["method"]["provenance"]["weights"] == str(weights)
    missing = cli(
        "run", "--method", "tiny-learned", "--dataset", "mydata", "--root", tmp_path / "nowhere", env=env, check=False
    )
    assert (
        missing.returncode == 2
        and "mask folder of split 'test'" in missing.stderr
        and "MyData authors" in missing.stderr
    )


@pytest.mark.parametrize("page", [PLUGINS_MD, HOOKS_MD], ids=lambda p: p.name)
def test_commands_on_the_page_exist_with_their_options(page):
    commands = doc_commands(page)
    assert commands, f"{page.name} shows no dbdbench command"
    helps: dict[str, str] = {}
    for words in commands:
        sub = words[0] if words else ""
        if sub not in helps:
            helps[sub] = cli(sub, "--help").stdout
        for option in (w.split("=", 1)[0] for w in words if w.startswith("--")):
            assert option in helps[sub], (
                f"{page.name}: 'dbdbench {' '.join(words)}' uses {option}, which 'dbdbench {sub}' lacks"
            )
