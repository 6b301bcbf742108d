"""7. Other commands and bad arguments: every wrong path, option or value is one error line (ours) or click's
usage error naming it; never a traceback. Through ``dbdbench.cli.main`` in this process: cheap, and a fresh
interpreter proves nothing more about argument handling."""

from __future__ import annotations

import json

import pytest

from .log import case, short

SCORE = "score --maps {maps} --gt {gt} --gt-polarity focus"
RUN = "run --method fake-sharp --images {img} --gt {gt} --gt-polarity focus"

#: (case, the command line with the paths of ``files`` in braces, expected exit, words in the error line)
ARGUMENT_CASES = [
    ("score: --maps does not exist", "score --maps {tmp}/nope --gt {gt} --gt-polarity focus", 2, ["nope", "not a folder"]),
    ("score: --maps is a file", "score --maps {afile} --gt {gt} --gt-polarity focus", 2, ["a-file.txt", "not a folder"]),
    ("score: --gt does not exist", "score --maps {maps} --gt {tmp}/nogt --gt-polarity focus", 2, ["nogt"]),
    ("score: --gt is an empty folder", "score --maps {maps} --gt {tmp}/emptygt --gt-polarity focus", 2, ["emptygt", "no ground-truth"]),
    ("score: --out is an existing file", SCORE + " --out {afile}", 2, ["a-file.txt"]),
    ("score: --subset not UTF-8", SCORE + " --subset {tmp}/subset.bin", 2, ["subset.bin", "UTF-8"]),
    ("score: --subset lists nothing", SCORE + " --subset {tmp}/empty.txt", 2, ["empty.txt", "no image names"]),
    ("score: --subset names an unknown image", SCORE + " --subset {tmp}/bad.txt", 2, ["bad.txt", "not-there"]),
    ("score: --subset is a folder", SCORE + " --subset {tmp}", 2, ["directory"]),
    ("score: --dataset unknown", "score --maps {maps} --dataset nosuch", 2, ["nosuch"]),
    ("score: dataset root missing", "score --maps {maps} --dataset cuhk --root {tmp}/nocuhk", 2, ["nocuhk", "cuhk"]),
    ("score: bad --split", "score --maps {maps} --dataset cuhk --root {tmp} --split zzz", 2, ["zzz"]),
    ("score: unknown --protocol", SCORE + " --protocol nosuch", 2, ["nosuch"]),
    ("run: --limit 0", RUN + " --limit 0 --out {tmp}/r", 2, ["--limit"]),
    ("run: --limit -3", RUN + " --limit -3 --out {tmp}/r", 2, ["--limit"]),
    ("run: unknown --option key", RUN + " --option nope=1 --out {tmp}/r", 2, ["nope", "fake-sharp"]),
    ("run: malformed --option", RUN + " --option novalue --out {tmp}/r", 2, ["novalue"]),
    ("run: --out is an existing file", RUN + " --out {afile}", 2, ["a-file.txt"]),
    ("run: bad --device", RUN + " --device tpu9 --out {tmp}/r", 2, ["tpu9"]),
    ("run: --images without --gt", "run --method fake-sharp --images {img}", 2, ["--gt"]),
    ("run: --images does not exist", "run --method fake-sharp --images {tmp}/noimg --gt {gt} --gt-polarity focus --out {tmp}/r", 2, ["noimg"]),
    ("leaderboard: folder does not exist", "leaderboard {tmp}/no-runs", 2, ["no-runs", "no such"]),
    ("leaderboard: torn result.json", "leaderboard {tmp}/lb", 2, ["result.json", "unreadable"]),
    ("leaderboard: result.json of the wrong shape", "leaderboard {tmp}/lb2", 2, ["result.json", "not a complete"]),
    ("leaderboard: --out in a missing folder", "leaderboard {tmp}/lb3 --out {tmp}/new/lb.md", 0, []),
    ("synth: --out is an existing file", "synth --n 2 --size 32 --out {afile}", 2, ["a-file.txt"]),
    ("synth: --n 0", "synth --n 0 --size 32 --out {tmp}/s0", 2, ["--n"]),
    ("synth: --n not a number", "synth --n abc --out {tmp}/s1", 2, ["--n"]),
    ("synth: --size below minimum", "synth --n 2 --size 4 --out {tmp}/s2", 2, ["--size"]),
    ("list: unknown kind", "list nothing", 2, ["nothing"]),
    ("unknown command", "frobnicate", 2, ["frobnicate"]),
]  # fmt: skip

#: One result of the complete shape, for a leaderboard that works.
VALID_RESULT = {
    "protocol": {"name": "dbd"},
    "dataset": {"name": "d", "split": "all", "file_list_hash": "0"},
    "method": {"id": "m"},
    "n_images": 1,
    "metrics": dict.fromkeys(("mae", "f_max", "f_mean", "f_adaptive", "f_fixed"), 0.5),
    "environment": {},
}


@pytest.fixture
def files(tmp_path, marked_photos) -> dict[str, str]:
    """The paths the command lines name: a small dataset and its maps, a plain file, subset lists that are not
    UTF-8 / empty / name an unknown image, and three result folders (torn, wrong shape, valid)."""
    data, maps = marked_photos.folder_with_maps(tmp_path, n=2)
    (tmp_path / "emptygt").mkdir()
    (tmp_path / "a-file.txt").write_text("x")
    (tmp_path / "subset.bin").write_bytes(b"\xff\xfe\x00\x81")
    (tmp_path / "empty.txt").write_text("# nothing\n")
    (tmp_path / "bad.txt").write_text("im00\nnot-there\n")
    for folder, text in (("lb", "{ torn"), ("lb2", "[]"), ("lb3", json.dumps(VALID_RESULT))):
        (tmp_path / folder / "m" / "d").mkdir(parents=True)
        (tmp_path / folder / "m" / "d" / "result.json").write_text(text)
    paths = {"tmp": tmp_path, "img": data.images, "gt": data.gt, "maps": maps, "afile": tmp_path / "a-file.txt"}
    return {k: str(v) for k, v in paths.items()}


@pytest.mark.parametrize("name, command, code, words", ARGUMENT_CASES, ids=[row[0] for row in ARGUMENT_CASES])
def test_other_commands_and_bad_arguments(tmp_path, monkeypatch, fake_cli, files, name, command, code, words):
    args = [word.format(**files) for word in command.split()]
    c = case(
        "arguments and other commands",
        name,
        "dbdbench " + " ".join(a.replace(str(tmp_path), "$TMP") for a in args),
        f"exit {code}" + (f", one error line with {', '.join(words)}" if code else ", no traceback"),
    )
    proc = fake_cli.in_process(monkeypatch, *args)
    try:
        if code == 0:
            proc.succeeded()
            c.ok("exit 0")
        elif proc.stderr.lstrip().startswith("Usage:"):
            # click's own usage errors print a usage block plus an 'Error:' line; ours print one 'error:' line
            assert proc.returncode == code and "Traceback" not in proc.stderr
            assert any(w in proc.stderr for w in words), proc.stderr
            c.ok(f"exit {proc.returncode}: click usage error: {short(proc.stderr.strip().splitlines()[-1])}")
        else:
            c.ok(f"exit 2: {short(proc.error_line(*words, code=code))}")
    except AssertionError as exc:
        c.observed = short(str(exc), 300)  # the report shows what went wrong
        raise
