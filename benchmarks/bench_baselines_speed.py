"""Speed (and HiFST fidelity) of the handcrafted baselines.

* every method: seconds per image on a 640x427 CUHK photo (median of ``--repeat`` runs);
* ``hifst`` (full fidelity, ``stride=1``) side by side with the PyPI package
  ``blur-detector`` 0.0.6 (``downsampling_factor=1``), on the same photo in the
  same process; skipped with a message when ``blur_detector`` is not installed
  (``pip install --no-deps blur-detector==0.0.6`` into the venv: its other
  requirements are already there, and ``--no-deps`` keeps it from pulling
  ``opencv-python`` next to ``opencv-python-headless``);
* ``hifst`` fidelity: Pearson r against the authors' released maps for every
  CUHK photo in the shared data, at ``stride`` 1, 2 and 4, with the time of each.

Writes ``benchmarks/results/baselines_speed.{json,md}``.

    .venv/bin/python benchmarks/bench_baselines_speed.py [--repeat 3] [--no-blur-detector] [--no-fidelity]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
IMAGE = "motion0239"  # 640 x 427
#: The CUHK photos of the shared data that have the authors' released HiFST maps.
STEMS = [*(f"out_of_focus{n:04d}" for n in (11, 31, 223, 284, 607)), "motion0138", "motion0239"]


def shared_data() -> Path:
    env = os.environ.get("DBDBENCH_SHARED")
    return Path(env) / "data" if env else REPO.parent / "shared" / "data"


def machine() -> str:
    from dbdbench.results import environment

    env = environment()
    return f"{env['cpu']}, {env['cpu_count']} CPUs visible, Python {env['python']}, numpy {env['numpy']}"


def load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def timed(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def pearson(a, b) -> float:
    return float(np.corrcoef(np.asarray(a, float).ravel(), np.asarray(b, float).ravel())[0, 1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-blur-detector", action="store_true")
    ap.add_argument("--no-fidelity", action="store_true")
    ap.add_argument("--results", default=str(REPO / "benchmarks" / "results"))
    args = ap.parse_args()

    from dbdbench_baselines.plugin import method_classes

    from dbdbench.io import read_gray, read_rgb
    from dbdbench.prepare import prepare_method

    def build(method_id: str, **options):
        return prepare_method(method_id, options).build()

    data = shared_data()
    img_path = data / "cuhk" / "image" / f"{IMAGE}.jpg"
    if not img_path.exists():
        print(f"shared data not found ({img_path}); nothing to benchmark", file=sys.stderr)
        return 1
    img = read_rgb(img_path)
    res: dict = {
        "machine": machine(),
        "image": f"{IMAGE}.jpg {img.shape[1]}x{img.shape[0]}",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "load_before": load(),
        "methods": {},
        "hifst_vs_blur_detector": None,
        "hifst_fidelity": [],
    }
    print(res["machine"], "| load", res["load_before"], flush=True)

    for cls in method_classes():
        reps = args.repeat if cls.id != "hifst" else max(1, min(args.repeat, 2))
        m = build(cls.id)
        m.predict(img[:64, :64])  # warm imports
        dt, _ = timed(lambda m=m: m.predict(img), reps)
        res["methods"][cls.id] = {"seconds": round(dt, 3), "repeat": reps, "options": dict(m.config)}
        print(f"{cls.id:10s} {dt:7.3f} s", flush=True)
        if cls.id == "lbp":
            mr = build("lbp", refine=True)
            dt, _ = timed(lambda mr=mr: mr.predict(img), 1)
            res["methods"]["lbp refine=true"] = {"seconds": round(dt, 3), "repeat": 1, "options": dict(mr.config)}
            print(f"{'lbp+refine':10s} {dt:7.3f} s", flush=True)
        if cls.id == "hifst":
            for s in (2, 4):
                ms = build("hifst", stride=s)
                dt, _ = timed(lambda ms=ms: ms.predict(img), args.repeat)
                res["methods"][f"hifst stride={s}"] = {
                    "seconds": round(dt, 3),
                    "repeat": args.repeat,
                    "options": dict(ms.config),
                }
                print(f"hifst s={s}  {dt:7.3f} s", flush=True)

    if not args.no_blur_detector:
        try:
            import blur_detector
        except ImportError:
            msg = "blur_detector not installed: skipped (pip install --no-deps blur-detector==0.0.6)"
            print(msg, flush=True)
            res["hifst_vs_blur_detector"] = {"skipped": msg}
        else:
            import warnings

            from dbdbench_baselines.hifst import preprocess

            gray = preprocess(img)[0].astype(np.uint8)  # same 8-bit gray HiFST uses
            ref = read_gray(data / "cuhk" / "results" / "hifst" / f"{IMAGE}_HiFSTBlurMap.png")
            t = time.perf_counter()
            ours = build("hifst").predict(img)
            t_ours = time.perf_counter() - t
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t = time.perf_counter()
                theirs = blur_detector.detectBlur(gray, downsampling_factor=1, show_progress=False)
                t_theirs = time.perf_counter() - t
            t = time.perf_counter()
            build("hifst").predict(img)
            t_ours2 = time.perf_counter() - t
            t_ours = min(t_ours, t_ours2)
            res["hifst_vs_blur_detector"] = {
                "blur_detector_version": "0.0.6",
                "blur_detector_seconds": round(t_theirs, 2),
                "hifst_seconds": round(t_ours, 2),
                "speedup": round(t_theirs / t_ours, 1),
                "r_hifst_vs_released": round(pearson(ours, ref), 4),
                "r_blur_detector_vs_released": round(pearson(theirs, ref), 4),
            }
            print(json.dumps(res["hifst_vs_blur_detector"]), flush=True)

    if not args.no_fidelity:
        for stem in STEMS:
            p = data / "cuhk" / "image" / f"{stem}.jpg"
            if not p.exists():
                continue
            im = read_rgb(p)
            ref = read_gray(data / "cuhk" / "results" / "hifst" / f"{stem}_HiFSTBlurMap.png")
            row = {"stem": stem, "size": f"{im.shape[1]}x{im.shape[0]}"}
            for s in (1, 2, 4):
                t = time.perf_counter()
                pred = build("hifst", stride=s).predict(im)
                row[f"s{s}_seconds"] = round(time.perf_counter() - t, 2)
                row[f"s{s}_r"] = round(pearson(pred, ref), 4)
            res["hifst_fidelity"].append(row)
            print(json.dumps(row), flush=True)

    res["load_after"] = load()
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "baselines_speed.json").write_text(json.dumps(res, indent=2, default=str) + "\n")
    L = [
        "# Handcrafted baselines: speed and HiFST fidelity",
        "",
        f"Produced by `{res['command']}` on {res['machine']}; load average before {res['load_before']}, after {res['load_after']} "
        "(the machine is shared: timings are wall clock).",
        "",
        f"## Seconds per image ({res['image']})",
        "",
        "| method | seconds | options |",
        "|---|---|---|",
    ]
    for k, v in res["methods"].items():
        L.append(f"| {k} | {v['seconds']:.3f} | `{json.dumps(v['options'], default=str)}` |")
    bd = res["hifst_vs_blur_detector"]
    if bd:
        L += ["", "## HiFST vs blur-detector 0.0.6 (downsampling_factor=1), same image, same run", ""]
        if "skipped" in bd:
            L.append(bd["skipped"])
        else:
            L += [
                "| implementation | seconds | Pearson r vs released map |",
                "|---|---|---|",
                f"| blur-detector 0.0.6 | {bd['blur_detector_seconds']} | {bd['r_blur_detector_vs_released']} |",
                f"| dbdbench `hifst` (stride=1) | {bd['hifst_seconds']} | {bd['r_hifst_vs_released']} |",
                "",
                f"Speed-up: **{bd['speedup']}x**.",
            ]
    if res["hifst_fidelity"]:
        L += [
            "",
            "## HiFST fidelity: Pearson r vs the authors' released maps (GT resolution)",
            "",
            "| image | size | r (stride 1) | s | r (stride 2) | s | r (stride 4) | s |",
            "|---|---|---|---|---|---|---|---|",
        ]
        L += [
            f"| {r['stem']} | {r['size']} | "
            + " | ".join(f"{r[f's{s}_r']:.4f} | {r[f's{s}_seconds']}" for s in (1, 2, 4))
            + " |"
            for r in res["hifst_fidelity"]
        ]
    (out / "baselines_speed.md").write_text("\n".join(L) + "\n")
    print("\n".join(L))
    return 0


if __name__ == "__main__":
    sys.exit(main())
