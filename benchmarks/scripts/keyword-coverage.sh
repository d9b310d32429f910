#!/usr/bin/env bash
# Keyword coverage with a programmatic reward (DeAL's CommonGen experiment in miniature): how often a response
# contains a required word, plain sampling against DeAL with --reward keyword:WORD, on stories260K (imported from
# ../shared into a temporary folder, never into the repository). Prints a markdown table.
# Usage: benchmarks/scripts/keyword-coverage.sh [samples-per-prompt]
set -euo pipefail
cd "$(dirname "$0")/../.."
samples=${1:-4}
cli=src/Cli/bin/Release/net10.0/decodealign
[ -x "$cli" ] || dotnet build src/Cli -c Release -v q >/dev/null
model=$(mktemp -d)/stories260K
"$cli" import-llama2c --checkpoint ../shared/models/stories260K/stories260K.bin --tokenizer ../shared/models/stories260K/tok512.bin --out "$model" >/dev/null
prompts=("Once upon a time, there was a little" "One day, Tom went to the" "Lily wanted to play with her" "Tim and Sue were" "There was a big"
         "The sun was shining and" "Mom said to Ben," "In the garden, a" "Sam was sad because" "At the park, the kids")
keywords=(dog ball tree)
contains() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); xs=d.get('samples',[d]); print(sum('$1' in x['text'] for x in xs), len(xs))"; }
echo "| keyword | sample | deal λ=1 | deal λ=5 |"
echo "|---|---:|---:|---:|"
for kw in "${keywords[@]}"; do
  declare -A hit=([s]=0 [d1]=0 [d5]=0) total=([s]=0 [d1]=0 [d5]=0)
  for p in "${prompts[@]}"; do
    read -r h n < <("$cli" generate --model "$model" --prompt "$p" --strategy sample --num-samples "$samples" --max-new-tokens 40 --seed 2 --json | contains "$kw")
    hit[s]=$((hit[s] + h)); total[s]=$((total[s] + n))
    for l in 1 5; do
      read -r h n < <("$cli" generate --model "$model" --prompt "$p" --strategy deal --reward "keyword:$kw" --lambda $l --max-new-tokens 40 --json | contains "$kw")
      hit[d$l]=$((hit[d$l] + h)); total[d$l]=$((total[d$l] + n))
    done
  done
  echo "| $kw | ${hit[s]}/${total[s]} | ${hit[d1]}/${total[d1]} | ${hit[d5]}/${total[d5]} |"
done
