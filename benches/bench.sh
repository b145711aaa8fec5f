#!/usr/bin/env bash
# Benchmarks kvtriage against rg (same needles, same files) and gzip -dc (same .tar.gz), at two
# sizes, in one run. Prints a Markdown table for BENCHMARKS.md.
#
#   benches/bench.sh [SIZE1_MB] [SIZE2_MB] [WORKDIR]     (defaults: 512 1024 /tmp/kvtriage-bench)
#
# Needs rg (apt-get install ripgrep) and GNU time (/usr/bin/time). Timings are wall clock,
# warm page cache, best of RUNS runs (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
S1=${1:-512}
S2=${2:-1024}
WORK=${3:-/tmp/kvtriage-bench}
RUNS=${RUNS:-3}
command -v rg >/dev/null || { echo "rg not found (apt-get install ripgrep)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time not found (apt-get install time)" >&2; exit 2; }

cargo build --release -q --example gen_bundle
cargo build --release -q
BIN=${KVTRIAGE_BIN:-./target/release/kvtriage}   # KVTRIAGE_BIN: time another build
mkdir -p "$WORK"
"$BIN" rules needles > "$WORK/needles.txt"

# best of $RUNS: prints "seconds max_rss_kb"
measure() {
  local best_s="" best_rss=0
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" > /dev/null 2>&1 || true
    read -r s rss < "$WORK/time.txt"
    if [ -z "$best_s" ] || awk "BEGIN{exit !($s < $best_s)}"; then best_s=$s; fi
    if [ "$rss" -gt "$best_rss" ]; then best_rss=$rss; fi
  done
  echo "$best_s $best_rss"
}

echo "| input | log bytes | kvtriage | rg / gzip -dc | ratio | kvtriage MiB/s | kvtriage peak RSS |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for size in "$S1" "$S2"; do
  dir="$WORK/bundle-$size"
  if [ ! -d "$dir" ]; then
    ./target/release/examples/gen_bundle "$dir" "$size" 42 --tar
  fi
  bytes=$((size * 1048576))   # log text (a quarter of it gzipped on disk)
  tgz="$dir.tar.gz"
  cat "$dir"/*/log/* "$dir"/pdctl/* "$tgz" > /dev/null   # warm the cache
  read -r k_s k_rss < <(measure "$BIN" analyze "$dir" -q --fail-on never)
  # -z: rg also reads the gzipped rotated logs, as kvtriage does.
  read -r r_s _ < <(measure rg -z -c -F -f "$WORK/needles.txt" "$dir")
  echo "| folder ${size} MiB | $bytes | ${k_s} s | rg ${r_s} s | $(awk "BEGIN{printf \"%.2f\", $k_s/$r_s}") | $(awk "BEGIN{printf \"%.0f\", $bytes/1048576/$k_s}") | $((k_rss / 1024)) MiB |"
  zbytes=$(stat -c %s "$tgz")
  read -r kz_s kz_rss < <(measure "$BIN" analyze "$tgz" -q --fail-on never)
  read -r g_s _ < <(measure sh -c "gzip -dc '$tgz' > /dev/null")
  echo "| .tar.gz ${size} MiB | $zbytes | ${kz_s} s | gzip -dc ${g_s} s | $(awk "BEGIN{printf \"%.2f\", $kz_s/$g_s}") | $(awk "BEGIN{printf \"%.0f\", $bytes/1048576/$kz_s}") | $((kz_rss / 1024)) MiB |"
done
