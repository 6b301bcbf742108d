#!/usr/bin/env bash
# The released-maps part of make_leaderboards.sh: HiFST's maps on CUHK (704 defocus images, CUHK-TE-1, the
# samples) and AENet/EFENet's on the DUT/xu100 samples, scored under every protocol under their own names,
# then the tables. Needs the shared research data:
#   DBDBENCH_SHARED=/path/to/shared bash leaderboards/released.sh
exec bash "$(dirname "$0")/make_leaderboards.sh" released tables
