"""4. Method failures: a method that raises, returns garbage or exits, cannot be built, or whose plugin does not
import, fails in one line that names it; the maps before the failure are kept."""

from __future__ import annotations

import json

from .harness import maps_of, two_at_a_time, valid_pngs
from .log import case, short

#: method (tests/reliability_plugins.py): words of its error on a marked image
FAILING = {
    "fake-raise": "raised RuntimeError",
    "fake-nan": "NaN/inf",
    "fake-shape": "shape",
    "fake-range": "expected [0, 1]",
    "fake-none": "NoneType",
    "fake-exit": "SystemExit",
}
METHOD_CASES = [(m, 1) for m in FAILING] + [("fake-raise", 2), ("fake-nan", 2)]  # the process-pool path too


def test_method_failures(tmp_path, fake_cli, marked_photos):
    """Each failing method on image im02 of 5: one error line naming method and image, earlier maps kept;
    then --skip-bad: exit 0, im02 listed in 'skipped', the kept maps reused."""
    setups = []
    for method, workers in METHOD_CASES:
        root = tmp_path / f"{method}-{workers}"
        data = marked_photos.folder(root, n=5, marked=(2,))
        setups.append((method, workers, root / "runs", data.run_args(method, "--workers", workers, out=root / "runs")))
    plain = two_at_a_time(fake_cli, [args for *_, args in setups])
    kept_by = [set(valid_pngs(maps_of(out, method))) for method, _, out, _ in setups]
    skip = two_at_a_time(fake_cli, [(*args, "--skip-bad", "--json") for *_, args in setups])
    failures = []
    for (method, workers, out, _), p, s, kept in zip(setups, plain, skip, kept_by):
        c = case(
            "method failure",
            f"{method} on one image (--workers {workers})",
            f"dbdbench run --method {method} --workers {workers} ... [--skip-bad]",
            "exit 2, one line naming method and image, maps before it kept; --skip-bad: exit 0, image in 'skipped'",
        )
        try:
            line = p.error_line(f"'{method}'", "'im02'", FAILING[method])
            assert {"im00", "im01"} <= kept and "im02" not in kept, kept
            result = s.succeeded()
            assert [x["stem"] for x in result["skipped"]] == ["im02"] and result["n_images"] == 4, result["skipped"]
            assert result["run"]["maps_reused"] >= 2
            lost = len(kept - set(valid_pngs(maps_of(out, method))))
            assert lost == 0
            c.ok(
                f"exit 2: {short(line.split(' (')[0])} | --skip-bad: exit 0, skipped [im02], {result['run']['maps_reused']} maps reused",
                lost,
            )
        except AssertionError as exc:
            c.observed = short(str(exc), 300)
            failures.append(f"{method}/{workers}: {exc}")
    assert not failures, "\n".join(failures)


def test_method_constructor_fails(tmp_path, fake_cli, marked_photos):
    data = marked_photos.folder(tmp_path, n=2)
    c = case(
        "method failure",
        "method constructor raises (missing weights)",
        "dbdbench run --method fake-init-fail ...",
        "exit 2, one line naming the method and the cause",
    )
    proc = fake_cli(*data.run_args("fake-init-fail", out=tmp_path / "r"))
    line = proc.error_line("'fake-init-fail'", "weights file not found")
    c.ok(f"exit 2: {short(line)}")


def test_plugin_fails_to_import(tmp_path, fake_cli, marked_photos):
    data = marked_photos.folder(tmp_path, n=2)
    cli = fake_cli.but(plugins="reliability_plugins,reliability_broken_plugin")
    c = case(
        "method failure",
        "a plugin fails to import",
        "DBDBENCH_EXTRA_PLUGINS=...,reliability_broken_plugin dbdbench run|list|plugins",
        "other methods still run (one warning line); 'plugins' shows the error; unknown method names the broken plugin; "
        "DBDBENCH_STRICT_PLUGINS=1: exit 2 naming the plugin",
    )
    run = cli(*data.run_args("fake-sharp", "--json", out=tmp_path / "r"))
    run.succeeded()
    warnings = [ln for ln in run.stderr.splitlines() if "reliability_broken_plugin" in ln]
    assert len(warnings) == 1 and warnings[0].startswith("warning:") and "libfoo" in warnings[0]
    rows = {r["name"]: r for r in json.loads(cli("plugins", "--json").stdout)}
    assert (
        rows["reliability_broken_plugin"]["status"] == "failed"
        and "libfoo" in rows["reliability_broken_plugin"]["error"]
    )
    cli("list", "methods").succeeded()
    cli(*data.run_args("broken-method")).error_line("'broken-method'", "reliability_broken_plugin")
    strict = cli("list", "methods", DBDBENCH_STRICT_PLUGINS="1")
    line = strict.error_line("reliability_broken_plugin", "libfoo")
    c.ok(f"run ok with 1 warning line; plugins lists the failure; strict: {short(line)}")


def test_debug_shows_traceback(tmp_path, fake_cli, marked_photos):
    data = marked_photos.folder(tmp_path, n=2, marked=(1,))
    c = case(
        "method failure",
        "--debug shows the traceback",
        "dbdbench --debug run --method fake-raise ...",
        "non-zero exit with a traceback (for developers)",
    )
    p = fake_cli("--debug", *data.run_args("fake-raise", out=tmp_path / "r"))
    assert p.returncode != 0 and "Traceback" in p.stderr
    c.ok(f"exit {p.returncode}; traceback shown")
