#!/usr/bin/env bash
# What CI runs (.ci/run: make test, then make compose-test), on a fresh clone of this checkout's HEAD, each
# command timed, with JUnit XML for each test's time and the load and free disk sampled every 10 s:
#
#   bash benchmarks/ci_timed.sh OUT_DIR      # the clone in OUT_DIR/clone; results beside it
#   CI_TARGETS=test bash benchmarks/ci_timed.sh OUT_DIR   # make test only
#
# OUT_DIR/summary: the commit, each command's exit status and wall time; OUT_DIR/samples: time, load, free disk.
set -u
out=$(realpath -m "${1:?usage: ci_timed.sh OUT_DIR}")
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out" && rm -rf "$out/clone"
git clone -q "$repo" "$out/clone" && cd "$out/clone" || exit 1
( while true; do echo "$(date +%T) $(cut -d' ' -f1 /proc/loadavg) $(df -BG --output=avail / | tail -1)"; sleep 10; done ) \
    > "$out/samples" &
sampler=$!
trap 'kill $sampler' EXIT
git log --oneline -1 > "$out/summary"
for target in ${CI_TARGETS:-test compose-test}; do
    /usr/bin/time -f "make $target: %e s wall" -a -o "$out/summary" \
        env PYTEST_ADDOPTS="--junitxml=$out/$target.xml" make "$target" > "$out/$target.log" 2>&1
    echo "make $target: exit $?" >> "$out/summary"
done
cat "$out/summary"
