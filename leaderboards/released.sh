#!/usr/bin/env bash
# Score the result maps that papers released (HiFST on CUHK; AENet and EFENet on DUT/xu100 samples) under
# every named protocol, then write leaderboards/released.md. Needs the shared research data:
#   DBDBENCH_SHARED=/path/to/shared bash leaderboards/released.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${DBDBENCH_SHARED:-../shared}/data"
BIN="${DBDBENCH_BIN:-.venv/bin/dbdbench}"
OUT="${OUT:-runs-released}"
rm -rf "$OUT"
for protocol in dbd sod sg ddffnet hifst; do
  "$BIN" score --maps "$DATA/cuhk/results/hifst" --map-suffix _HiFSTBlurMap --dataset cuhk --root "$DATA/cuhk" \
    --split te1 --protocol "$protocol" --out "$OUT/hifst-released/cuhk" > /dev/null
  "$BIN" score --maps "$DATA/cuhk/results/hifst" --map-suffix _HiFSTBlurMap --dataset cuhk --root "$DATA/cuhk" \
    --protocol "$protocol" --out "$OUT/hifst-released/cuhk" > /dev/null
done
for method in aenet efenet; do
  for ds in dut xu100; do
    "$BIN" score --maps "$DATA/results/$method/$ds" --dataset "$ds" --root "$DATA/$ds" --out "$OUT/$method-released/$ds" > /dev/null
  done
done
"$BIN" leaderboard "$OUT" --out leaderboards/released.md
