#!/usr/bin/env bash
# Publishes the CLI as CI's users would (`dotnet publish src/Cli -c Release`: native AOT) and checks that the native
# executable behaves as the JIT build does: the same text and figures for every strategy, eval, compare (plots
# included), task-dump and strategies; the same error lines; the clear refusal of ILGPU backends, which cannot run
# without dynamic code; and, where ../shared is present, a llama2.c import decoding the same tokens.
# Exits non-zero on the first difference. Usage: bash src/Cli/aot-check.sh   (after `dotnet build -c Release`)
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$SECONDS
jit=src/Cli/bin/Release/net10.0/decodealign
[[ -x $jit ]] || { echo "aot-check: $jit is missing: build the solution in Release first"; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if ! dotnet publish src/Cli/DecodeAlign.Cli.csproj -c Release -o "$out/cli" -nologo >"$out/publish.log" 2>&1; then
  tail -30 "$out/publish.log"; echo "aot-check: FAILED (publish)"; exit 1
fi
aot="$out/cli/decodealign"
if [[ -e "$out/cli/decodealign.dll" ]] || ! head -c 4 "$aot" | grep -q ELF; then
  echo "aot-check: FAILED: the default publish is not a native executable"; exit 1
fi
echo "aot-check: published a native executable ($(du -m "$aot" | cut -f1) MB) in $((SECONDS - start)) s"

fail() { echo "aot-check: FAILED: $*"; exit 1; }
# Runs one command line with both builds and compares stdout and exit codes; lines carrying timings (eval's
# wall_seconds, --json's *_ms and tokens_per_second) are dropped, as they differ between any two runs.
timings='wall_seconds|_ms"|per_second"'
same() {
  local a b ra=0 rb=0
  a=$("$jit" "$@" 2>/dev/null | grep -Ev "$timings") || ra=$?
  b=$("$aot" "$@" 2>/dev/null | grep -Ev "$timings") || rb=$?
  [[ $ra -eq $rb ]] || fail "exit $ra (JIT) vs $rb (AOT): $*"
  [[ $a == "$b" ]] || { diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | head -10; fail "output differs: $*"; }
  [[ -n $b ]] || fail "no output: $*"
  checked=$((checked + 1))
}
checked=0
same generate --prompt "12+7=" --max-new-tokens 12 --seed 3
same generate --prompt "12+7=" --strategy greedy --max-new-tokens 12
for s in bon mv wmv args vas qalign smc deal tqstar; do
  same generate --prompt "Sam has 5 apples and gets 7 more. How many?" --strategy "$s" --n 4 --max-new-tokens 24 --seed 5 --num-samples 2
done
same eval --strategy wmv --n 4 --problems 12 --seed 1
same strategies
same task-dump --count 5 --split test
same generate --prompt "3*4=" --max-new-tokens 8 --json
# compare: the same cells (wall time aside) and both plots drawn by SkiaSharp's native library.
"$jit" compare --strategies greedy,bon,smc --budgets 1,2 --problems 6 --out "$out/cmp-jit" >/dev/null
"$aot" compare --strategies greedy,bon,smc --budgets 1,2 --problems 6 --out "$out/cmp-aot" >/dev/null
cmp -s <(cut -d, -f1-14 "$out/cmp-jit/results.csv") <(cut -d, -f1-14 "$out/cmp-aot/results.csv") || fail "compare's results.csv differs"
for plot in accuracy-vs-lm-tokens reward-vs-accuracy; do
  [[ -s "$out/cmp-aot/$plot.png" && -s "$out/cmp-aot/$plot.svg" ]] || fail "compare drew no $plot plot"
  cmp -s "$out/cmp-jit/$plot.svg" "$out/cmp-aot/$plot.svg" || fail "$plot.svg differs"
done
# Errors: one line, exit 2, the same text.
err_jit=$("$jit" generate --model "$out/none" --prompt 1 2>&1 >/dev/null) && fail "a missing model succeeded"
err_aot=$("$aot" generate --model "$out/none" --prompt 1 2>&1 >/dev/null) && fail "a missing model succeeded (AOT)"
[[ $err_jit == "$err_aot" && $err_aot == error:* ]] || fail "error lines differ: '$err_jit' vs '$err_aot'"
rc=0
err=$("$aot" generate --prompt 1 --max-new-tokens 2 --backend ilgpu-cpu 2>&1 >/dev/null) || rc=$?
[[ $rc -eq 2 && $(printf '%s\n' "$err" | grep -c .) -eq 1 && $err == "error: --backend ilgpu-cpu needs ILGPU"* ]] \
  || fail "--backend ilgpu-cpu: expected exit 2 and one 'error: --backend ilgpu-cpu needs ILGPU' line, got exit $rc: $err"
# A llama2.c import through the AOT executable (Python child process, tools shipped beside it) decodes as the JIT build does.
shared=../shared/models/stories260K
if [[ -f $shared/stories260K.bin ]] && /usr/bin/python3 -c "import torch, onnx" >/dev/null 2>&1; then
  "$aot" import-llama2c --checkpoint "$shared/stories260K.bin" --tokenizer "$shared/tok512.bin" --out "$out/stories" >/dev/null 2>&1 \
    || fail "import-llama2c failed"
  same generate --model "$out/stories" --prompt "Once upon a time" --max-new-tokens 64 --temperature 1 --seed 1
else
  echo "aot-check: skipped the llama2.c import ($shared or Debian's python3-torch is absent)"
fi
echo "aot-check: ok: $checked command lines print the same with both builds, plus compare and errors ($((SECONDS - start)) s)"
