#!/usr/bin/env bash
# Regenerate every committed leaderboard: the results under leaderboards/results/ and the tables
# leaderboards/{synth,cuhk,dut,xu100}.md made from them. Run it from a clean checkout (committed code),
# so no result records a '-dirty' revision; 'dbdbench leaderboard --check' (part of 'make test') fails
# on tables that do not match their results, or that were made from modified code.
#
#   bash leaderboards/make_leaderboards.sh                 # everything (about 10 minutes on 2 cores)
#   bash leaderboards/make_leaderboards.sh released tables # only some steps: synth timing released samples tables readme
#
# The shared research data is used by path, never copied: $DBDBENCH_SHARED/data, else ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${DBDBENCH_SHARED:-../shared}/data"
BIN="${DBDBENCH_BIN:-.venv/bin/dbdbench}"
MAKE="${MAKE:-make}"
LB=leaderboards/results
# Every named protocol on the Zhao lab's 320x320 sets; 'sg' refuses CUHK's full-size GT (its source scores at 320x320).
PROTOCOLS="dbd sod sg ddffnet hifst"
CUHK_PROTOCOLS="dbd sod ddffnet hifst"
# Methods that run on photos: the handcrafted baselines and the learned methods with their shipped weights.
METHODS="${METHODS:-gradient laplacian dct svd lbp hifst rtdbd selfgen}"
# Methods whose latency 'bench' measures for the timing tables.
TIMING_METHODS="${TIMING_METHODS:-$METHODS}"
CUHK_SAMPLES=leaderboards/subsets/cuhk-samples.txt
# Every result carries 95% bootstrap intervals of its metrics, and the tables show them (docs/results.md).
CI=(--ci 0.95)

say() { echo "== $*" >&2; }

# The synthetic test split: every method of the demo ('make demo' writes leaderboards/synth.md too).
synth() {
  say "make demo"
  $MAKE demo
}

# Latency, model only and end to end, at 320 x 320 on this machine: the timing tables.
timing() {
  for m in $TIMING_METHODS; do
    say "bench $m"
    "$BIN" bench --method "$m" --size 320 --repeats 10 --warmup 2 --save-to-leaderboard
  done
}

# Maps the authors released, scored under every protocol: HiFST on all 704 CUHK defocus images, on
# CUHK-TE-1 and on the CUHK photos of the samples; AENet and EFENet (DENets) on the DUT and xu100 samples.
released() {
  local hifst=(--maps "$DATA/cuhk/results/hifst" --map-suffix _HiFSTBlurMap --dataset cuhk --root "$DATA/cuhk"
               --name hifst-released --kind handcrafted --paper "Golestaneh & Karam, CVPR 2017 (released maps)")
  for p in $CUHK_PROTOCOLS; do
    say "score HiFST's maps, protocol $p"
    "$BIN" score "${hifst[@]}" --split defocus --protocol "$p" "${CI[@]}" --save-to-leaderboard > /dev/null
    "$BIN" score "${hifst[@]}" --split te1 --protocol "$p" "${CI[@]}" --save-to-leaderboard > /dev/null
    "$BIN" score "${hifst[@]}" --subset "$CUHK_SAMPLES" --protocol "$p" "${CI[@]}" --save-to-leaderboard > /dev/null
  done
  for p in $PROTOCOLS; do
    say "score AENet's and EFENet's maps, protocol $p"
    for method in AENet EFENet; do
      lower=$(echo "$method" | tr '[:upper:]' '[:lower:]')
      for ds in dut xu100; do
        "$BIN" score --maps "$DATA/results/$lower/$ds" --dataset "$ds" --root "$DATA/$ds" --protocol "$p" \
          --name "$method" --kind learned --paper "Zhao, Hou, He & Lu, TIP 2021 (DENets, released maps)" \
          "${CI[@]}" --save-to-leaderboard > /dev/null
      done
    done
  done
}

# Every method on the real photos of the shared data (5 CUHK, 5 DUT, 5 xu100), under every protocol.
samples() {
  for m in $METHODS; do
    for p in $PROTOCOLS; do
      say "run $m on the samples, protocol $p"
      case " $CUHK_PROTOCOLS " in *" $p "*)
        "$BIN" run --method "$m" --dataset cuhk --root "$DATA/cuhk" --subset "$CUHK_SAMPLES" --protocol "$p" "${CI[@]}" --save-to-leaderboard > /dev/null ;;
      esac
      "$BIN" run --method "$m" --dataset dut --root "$DATA/dut" --protocol "$p" "${CI[@]}" --save-to-leaderboard > /dev/null
      "$BIN" run --method "$m" --dataset xu100 --root "$DATA/xu100" --protocol "$p" "${CI[@]}" --save-to-leaderboard > /dev/null
    done
  done
}

# The tables, from the committed results only.
tables() {
  for ds in cuhk dut xu100; do
    "$BIN" leaderboard "$LB" --dataset "$ds" --no-timing --ci --out "leaderboards/$ds.md"
  done
  "$BIN" leaderboard "$LB" --dataset synth --ci --out leaderboards/synth.md
  readme
}

# The README shows the synth accuracy table: copy it between the README's markers.
readme() {
  "$(dirname "$BIN")/python" - <<'PY'
from pathlib import Path
synth = Path("leaderboards/synth.md").read_text().split("protocol `dbd`", 1)[1].splitlines()[1:]
start = next(i for i, line in enumerate(synth) if line.startswith("|"))
table = [line for line in synth[start:] if line.startswith("|") or not line][: None]
table = table[: table.index("")] if "" in table else table
readme = Path("README.md").read_text()
head, rest = readme.split("<!-- synth-leaderboard:start", 1)
marker, rest = rest.split("\n", 1)
_, tail = rest.split("<!-- synth-leaderboard:end -->", 1)
Path("README.md").write_text(head + "<!-- synth-leaderboard:start" + marker + "\n" + "\n".join(table) + "\n<!-- synth-leaderboard:end -->" + tail)
PY
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(synth timing released samples tables)
# Steps that make results need committed code; 'tables' and 'readme' only render committed results.
if [[ " ${steps[*]} " =~ \ (synth|timing|released|samples)\  ]] && [ -z "${ALLOW_DIRTY:-}" ] \
   && [ -n "$(git status --porcelain --untracked-files=no -- . ':(exclude)leaderboards')" ]; then
  echo "error: uncommitted changes outside leaderboards/ ('git status'); commit them first (or ALLOW_DIRTY=1)" >&2
  exit 2
fi
for step in "${steps[@]}"; do
  case "$step" in
    synth|timing|released|samples|tables|readme) "$step" ;;
    *) echo "error: unknown step '$step' (steps: synth timing released samples tables readme)" >&2; exit 2 ;;
  esac
done
