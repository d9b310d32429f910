#!/usr/bin/env bash
# The GPU device check (issue 12): for a session that is lent a GPU machine (no .NET, no network there). Nothing requires it;
# CI never runs it.
#
#   here:   tools/device/gpu-check.sh prepare
#   there:  one device `run` per part that prepare lists, in order, each carrying that part's folder, then the checks.
#
# What it checks there:
#   kernels  ILGPU's CUDA backend against the SIMD CPU backend (softmax, log-softmax, entropy, top-k, top-p/min-p masks,
#            sampled tokens) on random and adversarial logits, then softmax/top-k/sampling throughput (GB/s of logits,
#            host copies included); plus greedy and seeded decoding of stories260K on ONNX Runtime's CPU provider.
#   ort      the same decoding with --execution-provider cuda (the GPU flavour's CUDA provider; CUDA 13 and cuDNN 9 taken
#            from the machine's Python wheels under /opt/torch), compared token for token with the CPU provider.
#
# Why parts: a device call carries at most 64 MiB with the working tree (about 22 MiB), and ONNX Runtime's CUDA provider
# library is 284 MB (186 MB as xz). Files under /tmp there survive between calls only while the machine stays warm (30 s
# idle), so make the calls back to back. prepare writes .device-gpu/NN/ (ignored in .gitignore) and prints the
# calls; the `core` parts alone are enough for the kernel check.
set -euo pipefail
root=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
cd "$root"
here=.device-gpu
there=/tmp/gpu-check
part_mib=${GPU_CHECK_PART_MIB:-36}

prepare() {
  local shared=../shared/models/stories260K dn fw native n
  rm -rf "$here"; mkdir -p "$here"
  stage=$(mktemp -d); art=$(mktemp -d)
  trap 'rm -rf "$stage" "$art"' EXIT
  # As ../shared/tools/device-bundle.sh does: the host's dotnet and newest Microsoft.NETCore.App beside a framework-dependent
  # publish. The benchmarks app carries the CLI (decodealign.dll) too; the GPU flavour gives it ONNX Runtime's CUDA build.
  dn=$(dirname "$(readlink -f "$(command -v dotnet)")")
  fw=$(ls -d "$dn"/shared/Microsoft.NETCore.App/*/ | sort -V | tail -1)
  dotnet publish benchmarks/DecodeAlign.Benchmarks/DecodeAlign.Benchmarks.csproj -c Release -r linux-x64 --self-contained false \
    -p:OnnxRuntimeFlavor=Gpu -p:PublishReadyToRun=false --artifacts-path "$art" -o "$stage/dn/app" >"$art/publish.log" 2>&1 \
    || { tail -20 "$art/publish.log"; exit 1; }
  mkdir -p "$stage/dn/shared/Microsoft.NETCore.App" "$stage/ort"
  cp -a "$dn/dotnet" "$dn/host" "$stage/dn/"
  cp -a "$fw" "$stage/dn/shared/Microsoft.NETCore.App/"
  native="$stage/dn/app/runtimes/linux-x64/native"
  [[ -d $native ]] || native="$stage/dn/app"
  # The CUDA provider travels on its own; the compare verb's plotting libraries are not needed there.
  mv "$native"/libonnxruntime_providers_cuda.so "$stage/ort/"
  rm -f "$native"/libonnxruntime_providers_tensorrt.so "$stage"/dn/app/libSkiaSharp.so "$stage"/dn/app/libHarfBuzzSharp.so
  if [[ -f $shared/stories260K.bin ]]; then
    /usr/bin/python3 tools/python/import_llama2c.py --checkpoint "$shared/stories260K.bin" --tokenizer "$shared/tok512.bin" \
      --out "$stage/dn/model" >/dev/null
  else
    echo "prepare: $shared is absent: the decoding checks will be skipped"
  fi
  tar cJf "$stage/core.tar.xz" -C "$stage/dn" .
  xz -T0 -6 -c "$stage/ort/libonnxruntime_providers_cuda.so" > "$stage/ort.xz"
  split -b "${part_mib}M" -d -a 2 "$stage/core.tar.xz" "$stage/core.part."
  split -b "${part_mib}M" -d -a 2 "$stage/ort.xz" "$stage/ort.part."
  n=0
  for p in "$stage"/core.part.* "$stage"/ort.part.*; do
    n=$((n + 1)); mkdir -p "$here/$(printf %02d $n)"; mv "$p" "$here/$(printf %02d $n)/"
  done
  echo "prepare: $n parts under $here/ ($(du -sh "$here" | cut -f1)); working tree $(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1) bytes"
  echo "device calls, back to back (each a run with that carry and timeout_s 300; the tool's status says the time left):"
  local last_core last_ort d
  last_core=$(dirname "$(ls "$here"/*/core.part.* | tail -1)")
  last_ort=$(dirname "$(ls "$here"/*/ort.part.* | tail -1)")
  for d in "$here"/*/; do
    d=${d%/}
    case $d in
      "$last_core") echo "  carry [\"$d\"]  command: tools/device/gpu-check.sh stash kernels" ;;
      "$last_ort") echo "  carry [\"$d\"]  command: tools/device/gpu-check.sh stash ort" ;;
      *) echo "  carry [\"$d\"]  command: tools/device/gpu-check.sh stash" ;;
    esac
  done
}

stash() {
  mkdir -p "$there/parts"
  cp "$here"/*/*.part.* "$there/parts/"
  ls -l "$there/parts" | awk 'NR > 1 { printf "stashed: %s (%d bytes)\n", $NF, $5 }'
}

unpack_core() {
  [[ -x $there/dn/dotnet ]] && return 0
  ls "$there"/parts/core.part.* >/dev/null 2>&1 || { echo "no core parts stashed: carry and stash them first"; return 1; }
  mkdir -p "$there/dn"
  cat "$there"/parts/core.part.* | tar xJf - -C "$there/dn"
}

dotnet_there() { DOTNET_ROOT=$there/dn DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 "$there/dn/dotnet" "$@"; }

decode() { # $1 = cpu|cuda
  local model=$there/dn/model
  [[ -f $model/model.onnx ]] || { echo "decode: no stories260K model carried; skipped"; return 0; }
  for args in "--strategy greedy" "--temperature 1.0 --seed 1"; do
    echo "== generate --execution-provider $1 $args"
    # shellcheck disable=SC2086
    dotnet_there "$there/dn/app/decodealign.dll" generate --model "$model" --max-new-tokens 256 --ignore-eos --backend cpu \
      --execution-provider "$1" $args --json > "$there/decode-$1-${args// /_}.json" || return 1
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); s=d['stats']; print('tokens', len(d['tokens']), 'tok/s %.0f' % s['tokens_per_second'], 'model_ms %.1f' % s['model_ms'], 'text:', d['text'][:80].replace(chr(10), ' '))" \
      "$there/decode-$1-${args// /_}.json"
  done
}

kernels() {
  unpack_core
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  local rc=0
  dotnet_there "$there/dn/app/DecodeAlign.Benchmarks.dll" gpu-kernels --rows 64 --iters 20 | tee "${OUT:-$there}/gpu-kernels.txt" || rc=$?
  echo "gpu-kernels exited $rc (0 all equal, 1 a mismatch, 3 no CUDA device)"
  decode cpu | tee "${OUT:-$there}/decode-cpu.txt"
  return "$rc"
}

ort() {
  unpack_core
  local native=$there/dn/app/runtimes/linux-x64/native libs
  [[ -d $native ]] || native=$there/dn/app
  if [[ ! -f $native/libonnxruntime_providers_cuda.so ]]; then
    ls "$there"/parts/ort.part.* >/dev/null 2>&1 || { echo "no ort parts stashed"; return 1; }
    cat "$there"/parts/ort.part.* | xz -d > "$native/libonnxruntime_providers_cuda.so"
  fi
  # CUDA 13's runtime, cuBLAS, cuRAND, cuDNN 9 and NVRTC come with the machine's PyTorch as nvidia-* wheels.
  libs=$(find /opt /usr -type d -path '*site-packages/nvidia/*/lib' 2>/dev/null | paste -sd: -)
  [[ -d /usr/local/nvidia/lib64 ]] && libs=$libs:/usr/local/nvidia/lib64 # the driver's mount, where libcuda.so.1 lives
  export LD_LIBRARY_PATH=${libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  ldd "$native/libonnxruntime_providers_cuda.so" | grep -E "not found|cuda|cublas|curand" || true
  ls "$there"/decode-cpu-*.json >/dev/null 2>&1 || decode cpu > "$there/decode-cpu.txt"
  decode cuda | tee "${OUT:-$there}/decode-cuda.txt"
  for f in "$there"/decode-cuda-*.json; do
    local c=${f/decode-cuda-/decode-cpu-}
    python3 -c "import json,sys; a=json.load(open(sys.argv[1]))['tokens']; b=json.load(open(sys.argv[2]))['tokens']; n=next((i for i,(x,y) in enumerate(zip(a,b)) if x!=y), None); print(sys.argv[1].split('/')[-1], 'tokens equal to the CPU provider' if n is None and len(a)==len(b) else f'first difference at token {n}')" "$f" "$c"
  done | tee -a "${OUT:-$there}/decode-cuda.txt"
}

case ${1:-} in
  prepare) prepare ;;
  stash) stash; shift; case ${1:-} in kernels) kernels ;; ort) ort ;; "") ;; *) echo "unknown step $1"; exit 2 ;; esac ;;
  kernels) kernels ;;
  ort) ort ;;
  *) sed -n '2,20p' "$0"; exit 2 ;;
esac
