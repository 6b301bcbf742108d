"""The plugin author's documentation cannot rot: every hook documented with its exact signature,
the dataset and training contracts complete, and every file and command on those pages run as written."""

from __future__ import annotations

import dataclasses
import functools
import importlib
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
#: A command in an indented code block (the model cards' style), with its ``\`` continuation lines.
INDENTED_COMMAND = re.compile(r"^ {4,}((?:\S*/)?dbdbench (?:.*\\\n)*.*)", re.M)
#: Every page a reader may open: the README, docs/, and each plugin's README and model card.
PAGES = sorted(
    [
        REPO / "README.md",
        *(REPO / "docs").glob("*.md"),
        *REPO.glob("plugins/*/README.md"),
        *REPO.glob("plugins/*/src/*/weights/MODEL_CARD.md"),
    ]
)


def doc_files(markdown: Path) -> dict[str, str]:
    files = {}
    for _, body in FENCE.findall(markdown.read_text(encoding="utf-8")):
        m = FILE_LINE.match(body)
        if m:
            files[m.group(1)] = body
    return files


def command_words(line: str) -> list[str] | None:
    """The words after ``dbdbench`` of one shell line (``VAR=value`` prefixes, ``.venv/bin/dbdbench``, and
    ``python -m dbdbench`` or ``torchrun ... -m dbdbench`` allowed), or None when the line runs something else."""
    words = shlex.split(line, comments=True)
    while words and re.match(r"^[A-Z_]+=", words[0]):
        words = words[1:]  # VAR=value prefixes
    for i, word in enumerate(words[:-1]):
        if word == "-m" and words[i + 1] == "dbdbench":
            return words[i + 2 :]
    if words and Path(words[0]).name == "dbdbench":
        return words[1:]
    return None


def doc_commands(markdown: Path) -> list[list[str]]:
    """Every ``dbdbench ...`` command a reader may copy from the page: the lines of its bash blocks and of its
    indented code blocks (continuations joined, comments cut)."""
    text = markdown.read_text(encoding="utf-8")
    lines = [
        line for lang, body in FENCE.findall(text) if lang == "bash" for line in body.replace("\\\n", " ").splitlines()
    ]
    lines += [block.replace("\\\n", " ") for block in INDENTED_COMMAND.findall(FENCE.sub("", text))]
    return [words for words in map(command_words, lines) if words is not None]


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
def photos(tmp_path, make_photo_folder):
    """Four 64x96 photos ``p0`` .. ``p3``, sharp left part and blurred right part, GT in-focus white."""
    return make_photo_folder(
        tmp_path, 4, seed=1, shape=(64, 96), cut=lambda i, rng: 30 + 10 * i, name="p{i}", images="photos"
    )


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


# ------------------------------------------------------------------ every page: its commands, links and names


def page_id(page: Path) -> str:
    return str(page.relative_to(REPO))


def prose(page: Path) -> str:
    """The page without its fenced code blocks (where names in backticks are only examples)."""
    return FENCE.sub("", page.read_text(encoding="utf-8"))


@functools.cache
def help_options(*command: str) -> frozenset[str]:
    """The options ``dbdbench COMMAND --help`` lists (none for a command that does not exist)."""
    proc = cli(*command, "--help", check=False)
    return frozenset(re.findall(r"(?<![\w-])--[a-z][\w-]*", proc.stdout)) if proc.returncode == 0 else frozenset()


@functools.cache
def commands() -> frozenset[str]:
    """The commands ``dbdbench --help`` lists."""
    listing = cli("--help").stdout.split("Commands:", 1)[1]
    return frozenset(re.findall(r"^  ([a-z][\w-]*)", listing, re.M))


@functools.cache
def registered(kind: str) -> dict[str, dict]:
    """What ``dbdbench list KIND --json`` lists (methods, datasets or protocols), by id or name."""
    entries = json.loads(cli("list", kind, "--json").stdout)
    return {entry.get("id") or entry["name"]: entry for entry in entries}


def defined_on_page(page: Path, name: str) -> bool:
    """Whether one of the page's own files (a plugin it writes out) defines ``name`` as a string."""
    return re.search(rf"[\"']{re.escape(name)}[\"']", "\n".join(doc_files(page).values())) is not None


#: A name, not a placeholder of the pages ("M", "<id>", "...").
NAME = re.compile(r"[a-z0-9][\w.-]*")
OPTION = re.compile(r"(?<![\w-])--[a-z][\w-]*")
#: Not commands on purpose: docs/reliability.md's case of an unknown command.
NOT_COMMANDS = {"frobnicate"}


def split_command(shown: str, words: list[str]) -> tuple[list[str], str | None, list[str]]:
    """The words after ``dbdbench`` as: problems with the global options or the command, the command (None when
    there is none, or none of that name), and its arguments."""
    first = next((i for i, w in enumerate(words) if not w.startswith("-")), len(words))
    problems = [f"'{shown}': dbdbench has no option {w}" for w in words[:first] if w not in help_options()]
    sub = words[first] if first < len(words) else None
    if sub is not None and NAME.fullmatch(sub) and sub not in commands() and sub not in NOT_COMMANDS:
        problems.append(f"'{shown}': dbdbench has no command {sub!r}")
    return problems, sub if sub in commands() else None, words[first + 1 :]


def command_problems(page: Path, words: list[str]) -> list[str]:
    """What is wrong with one command a page shows: a command, option, method, dataset, protocol or method option
    that dbdbench does not have (what the page's own plugin files define counts)."""
    shown = "dbdbench " + " ".join(words)
    problems, sub, args = split_command(shown, words)
    if sub is None:
        return problems
    values: dict[str, list[str]] = {}
    for i, word in enumerate(args):
        option, _, value = word.partition("=")
        if option.startswith("--"):
            if option not in help_options(sub):
                problems.append(f"'{shown}': 'dbdbench {sub}' has no option {option}")
            values.setdefault(option, []).append(value or (args[i + 1] if i + 1 < len(args) else ""))
    names = {
        "--method": set(registered("methods")),
        "--dataset": set(registered("datasets")),
        "--protocol": set(registered("protocols")) | ({"all"} if sub == "score" else set()),
    }
    for option, known in names.items():
        for value in values.get(option, []):
            name = value.lower() if option == "--dataset" else value  # dataset names match in any case
            if NAME.fullmatch(name) and name not in known and not defined_on_page(page, name):
                problems.append(f"'{shown}': {option} {value}: dbdbench has no such {option[2:]}")
    method = registered("methods").get(next(iter(values.get("--method", [])), ""))
    if method is not None and sub in ("run", "bench"):
        for key in (pair.partition("=")[0] for pair in values.get("--option", [])):
            if key not in method["options"]:
                problems.append(
                    f"'{shown}': method {method['id']} has no option {key!r} ({', '.join(method['options'])})"
                )
    return problems


#: Spans of the prose that name a dbdbench command: ``dbdbench compare A B [--ci 0.95]``.
INLINE_COMMAND = re.compile(r"`(dbdbench [^`]+)`")


def inline_command_problems(span: str) -> list[str]:
    """A usage string of the prose (placeholders and ``[...]`` allowed): its command exists with every option it
    names. Two commands may share a span, separated by ``;``."""
    problems = []
    for part in span.split(";"):
        words = part.split()
        if words[:1] != ["dbdbench"]:
            continue
        found, sub, args = split_command(f"`{span}`", words[1:])
        problems += found
        if sub is not None:
            options = OPTION.findall(" ".join(args))
            problems += [f"`{span}`: 'dbdbench {sub}' has no option {o}" for o in options if o not in help_options(sub)]
    return problems


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_commands_on_the_page_exist_with_their_options(page):
    """Every command a page shows (copyable or in the prose) exists, with every option it uses, and names only
    registered methods, datasets and protocols, and only options the method declares."""
    copyable = doc_commands(page)
    if page in (REPO / "README.md", PLUGINS_MD, HOOKS_MD):
        assert copyable, f"{page_id(page)} shows no dbdbench command"
    problems = [p for words in copyable for p in command_problems(page, words)]
    problems += [
        p for span in INLINE_COMMAND.findall(prose(page).replace("\n", " ")) for p in inline_command_problems(span)
    ]
    assert not problems, f"{page_id(page)}:\n" + "\n".join(problems)


LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings: lower case, punctuation dropped, spaces as hyphens,
    ``-1``, ``-2`` ... for repeats."""
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6} (.+)$", prose(page), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        seen[slug if slug not in seen else f"{slug}-{seen[slug]}"] = 0
        seen[slug] = seen.get(slug, 0) + 1
    return set(seen)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_relative_links_resolve(page):
    """Every relative link of a page reaches a file of the repository, and its ``#anchor`` a heading there."""
    broken = []
    for target in LINK.findall(prose(page)):
        if re.match(r"^[a-z][\w+.-]*:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists() or not dest.is_relative_to(REPO):
            broken.append(f"{target}: no such file in the repository")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: {page_id(dest)} has no heading with anchor #{anchor}")
    assert not broken, f"{page_id(page)}:\n" + "\n".join(broken)


#: A repository path inside backticks: `dbdbench/training.py`, `python benchmarks/bench_ci.py`,
#: `benchmarks/results/baselines_speed.{md,json}` (both).
REPO_PATH = re.compile(r"(?<![\w./-])((?:dbdbench|plugins|tests|benchmarks|docs|leaderboards|\.ci)/[\w./{,}-]*)")
CODE_SPAN = re.compile(r"`([^`]+)`")


def expanded(path: str) -> list[str]:
    """A path with its shell braces expanded: ``a.{md,json}`` is ``a.md`` and ``a.json``."""
    brace = re.search(r"\{([^{}]*)\}", path)
    if brace is None:
        return [path.rstrip(".,")]
    return [p for alt in brace.group(1).split(",") for p in expanded(path[: brace.start()] + alt + path[brace.end() :])]


#: A Python name in backticks: `dbdbench.methods.Method`, `dbdbench_torch.weights.weights_digest`.
PYTHON_NAME = re.compile(r"`(dbdbench(?:_\w+)?(?:\.\w+)+)`")


def python_object(dotted: str):
    """The module or attribute a dotted name names (ImportError or AttributeError when there is none)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            if cut == 1:
                raise
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise AssertionError(dotted)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_files_and_python_names_the_page_names_exist(page):
    """Every repository path and every dbdbench Python name a page names in backticks exists, so a module that is
    renamed or removed cannot leave a page pointing at it."""
    text = prose(page)
    bases = [page.parent, *(d for d in page.parent.parents if d.is_relative_to(REPO))]  # a plugin's own tests/
    spans = CODE_SPAN.findall(text)
    paths = [
        path for span in spans for found in REPO_PATH.findall(span) for path in expanded(found) if "..." not in path
    ]
    missing = [f"{path}: no such file" for path in paths if not any((base / path).exists() for base in bases)]
    own_packages = {Path(rel).parent.name or Path(rel).stem for rel in doc_files(page) if rel.endswith(".py")}
    for dotted in (name for span in spans for name in PYTHON_NAME.findall(f"`{span}`")):
        try:
            python_object(dotted)
        except (ImportError, AttributeError) as err:
            if dotted.split(".")[0] not in own_packages:
                missing.append(f"{dotted}: {err}")
    assert not missing, f"{page_id(page)}:\n" + "\n".join(missing)


def test_protocols_md_shows_the_registered_protocols():
    """docs/protocols.md's table has one row per built-in protocol, in the registry's order, and every protocol it
    gives a section ("### `name` — its source") is registered."""
    text = (REPO / "docs" / "protocols.md").read_text(encoding="utf-8")
    table = text.split("| protocol |", 1)[1].split("\n\n", 1)[0]
    builtin = [name for name, p in registered("protocols").items() if p["plugin"] == "dbdbench.builtin_protocols"]
    assert re.findall(r"^\| `([\w.-]+)`", table, re.M) == builtin, "docs/protocols.md's table and the registry differ"
    sections = re.findall(r"^### `([\w.-]+)` — ", text, re.M)
    assert set(sections) <= set(builtin), (
        f"docs/protocols.md has sections of no protocol: {set(sections) - set(builtin)}"
    )


# ------------------------------------------------------------------ docs/results.md against what dbdbench writes

RESULTS_MD = REPO / "docs" / "results.md"
#: Mappings whose keys are data (metric names, a method's options), not part of the schema.
OPEN_MAPPINGS = frozenset({"metrics", "ci.metrics", "method.options", "method.provenance"})


def jsonc_keys(sample: str) -> tuple[set[str], str]:
    """The keys a commented JSON sample spells out, as dotted paths (``dataset.n_images``; ``coc_bands[].pixels``
    for the objects of a list), and the text of its comments, where it names the keys a result only sometimes has."""
    keys: set[str] = set()
    comments: list[str] = []
    stack = [""]  # the path of each open object or list
    string = key = None
    i = 0
    while i < len(sample):
        if sample[i] == '"':
            end = i + 1
            while sample[end] != '"':
                end += 2 if sample[end] == "\\" else 1
            string, i = sample[i + 1 : end], end + 1
            continue
        if sample.startswith("//", i):
            end = sample.find("\n", i)
            comments.append(sample[i + 2 : end if end >= 0 else None])
            i = end if end >= 0 else len(sample)
            continue
        char = sample[i]
        if char == ":" and string is not None:
            key = f"{stack[-1]}.{string}".lstrip(".")
            keys.add(key)
        elif char in "{[":
            stack.append((key or stack[-1]) + ("[]" if char == "[" else ""))
            key = None
        elif char in "}]":
            stack.pop()
        elif char == ",":
            key = None
        if char not in " \n":
            string = None
        i += 1
    return keys, " ".join(comments)


def written_keys(obj, path: str = "", open_mappings=OPEN_MAPPINGS) -> set[str]:
    """The dotted paths of every key a JSON value holds, as :func:`jsonc_keys` spells them."""
    if isinstance(obj, list):
        return {key for item in obj for key in written_keys(item, f"{path}[]", open_mappings)}
    if not isinstance(obj, dict) or path in open_mappings:
        return set()
    keys = set()
    for name, value in obj.items():
        sub = f"{path}.{name}".lstrip(".")
        keys |= {sub} | written_keys(value, sub, open_mappings)
    return keys


def sample_mismatch(sample: str, written: list[dict], open_mappings=OPEN_MAPPINGS) -> str:
    """What a page's sample and real output disagree on: keys written but neither shown nor named in a comment,
    and keys shown that nothing wrote."""
    shown, comments = jsonc_keys(sample)
    made = set().union(*(written_keys(obj, open_mappings=open_mappings) for obj in written))
    named = set(re.findall(r"\w+", comments))
    unlisted = sorted(k for k in made - shown if k.rsplit(".", 1)[-1].removesuffix("[]") not in named)
    inside_open = tuple(f"{m}." for m in open_mappings)
    stale = sorted(k for k in shown - made if not k.startswith(inside_open))
    return (f"written but not in the sample: {unlisted}\n" if unlisted else "") + (
        f"in the sample but never written: {stale}" if stale else ""
    )


def section_text(text: str, heading: str) -> str:
    return text.split(heading, 1)[1].split("\n## ", 1)[0]


def test_results_md_lists_what_run_and_score_write(tmp_path, photos):
    """The result sample of docs/results.md, its per_image.csv columns and its per_image.npz members are what a
    real ``run`` and ``score`` write: a run on a few synth scenes (CoC bands, part of a split, intervals), and a
    score of inverted maps (the polarity guard) with a bad file (--skip-bad) and a missing map, on a partial copy
    of a dataset whose release size is known (dut), under a protocol with the later options (evp)."""
    runs = tmp_path / "runs"
    synth = ("--dataset", "synth", "--dataset-option", "n=3", "--dataset-option", "size=64")
    run = json.loads(
        cli("run", "--method", "laplacian", *synth, "--limit", "2", "--ci", "0.95", "--out", runs, "--json").stdout
    )
    images, gts = photos
    root, maps = tmp_path / "dut", tmp_path / "maps"
    (root / "dut500-source").mkdir(parents=True), (root / "dut500-gt").mkdir(), maps.mkdir()
    for i, photo in enumerate(sorted(images.iterdir())):
        Image.open(photo).save(root / "dut500-source" / f"{i}.jpg")
        gt = np.asarray(Image.open(gts / photo.name))
        Image.fromarray(gt).save(root / "dut500-gt" / f"{i}.bmp")
        if i < 2:
            Image.fromarray(255 - gt).save(maps / f"{i}.png")  # white where blurred: the polarity guard warns
    (maps / "2.png").write_bytes(b"")  # skipped with --skip-bad; image 3 has no map
    scored = tmp_path / "scored"
    args = ("--maps", maps, "--dataset", "dut", "--root", root, "--protocol", "evp", "--allow-missing", "--skip-bad")
    score = json.loads(cli("score", *args, "--ci", "0.95", "--out", scored, "--json").stdout)
    assert run["coc_bands"] and score["warnings"] and score["skipped"] and score["dataset"]["partial"]

    text = RESULTS_MD.read_text(encoding="utf-8")
    samples = [body for lang, body in FENCE.findall(text) if lang == "jsonc"]
    mismatch = sample_mismatch(samples[0], [run, score])
    assert not mismatch, f"docs/results.md's result sample and the results run and score write differ:\n{mismatch}"

    listed = re.search(r"One row per image: `([^`]+)`", text).group(1).replace("\n", " ")
    optional = re.findall(r"\[, (\w+)\]", listed)
    columns = [c.strip() for c in re.sub(r"\[.*?\]", "", listed).split(",")]
    run_dir = next(runs.glob("laplacian/synth*"))
    run_csv = (run_dir / "per_image.limit2.csv").read_text().splitlines()[0].split(",")
    score_csv = (scored / "per_image.evp.csv").read_text().splitlines()[0].split(",")
    assert run_csv == columns + optional and score_csv == columns, "docs/results.md's per_image.csv columns differ"

    members = section_text(text, "## Per-image data")
    documented = {m for line in re.findall(r"^\* (.*?):", members, re.M) for m in re.findall(r"`([^`]+)`", line)}
    for npz in (run_dir / "per_image.limit2.npz", scored / "per_image.evp.npz"):
        written = set(np.load(npz).files)
        assert {re.sub(r"^column\..*", "column.<name>", m) for m in written} == documented, npz.name
        assert {m.removeprefix("column.") for m in written if m.startswith("column.")} == set(columns) - {"stem"}


def test_results_md_lists_what_a_timing_record_writes():
    record = json.loads(
        cli("bench", "--method", "laplacian", "--size", "32", "--repeats", "1", "--warmup", "0", "--json").stdout
    )
    sample = [body for lang, body in FENCE.findall(RESULTS_MD.read_text(encoding="utf-8")) if lang == "jsonc"][1]
    mismatch = sample_mismatch(sample, [record], OPEN_MAPPINGS | {"environment"})  # as in a result: the sample above
    assert not mismatch, f"docs/results.md's timing sample and what 'dbdbench bench' writes differ:\n{mismatch}"


def test_usage_md_lists_what_is_registered():
    """docs/usage.md's methods table has every shipped method (the example plugin's template aside), and its
    datasets, protocols and metrics paragraphs name every one registered."""
    text = (REPO / "docs" / "usage.md").read_text(encoding="utf-8")
    table = re.findall(r"^\| `([\w-]+)` \| (?:handcrafted|learned) \|", text, re.M)
    shipped = [m for m, entry in registered("methods").items() if entry["plugin"] != "example"]
    assert sorted(table) == sorted(shipped), "docs/usage.md's methods table and the registered methods differ"
    for kind in ("datasets", "protocols", "metrics"):
        paragraph = text.split(f"* **{kind.capitalize()}**:", 1)[1].split("\n* **", 1)[0]
        missing = [name for name in registered(kind) if f"`{name}`" not in paragraph]
        assert not missing, f"docs/usage.md's {kind} paragraph does not name {missing}"
