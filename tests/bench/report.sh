#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Every CSV file in DIR (a header line each) into DIR/report.md: the
# machine, the targets of issue 8 met or missed, the tables, and PNG plots
# drawn by gnuplot (report.py writes the data and the gnuplot scripts;
# a plot whose data is absent is left out with a note).
#
# usage: tests/bench/report.sh DIR
set -u
DIR=${1:?usage: report.sh DIR}
exec /usr/bin/python3 "$(dirname "$0")/report.py" "$DIR"
