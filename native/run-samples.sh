#!/usr/bin/env bash
# Builds libdecodealign.so, runs the C and Python samples, then the C sample again under valgrind's Memcheck with
# native/valgrind.supp (the .NET runtime's and ONNX Runtime's own allocations; see native/README.md). Exits nonzero
# when a sample fails or Memcheck reports a leak or memory error of libdecodealign.so or the sample.
set -euo pipefail
cd "$(dirname "$0")"
start=$SECONDS

if ! command -v valgrind >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
  else
    echo "run-samples.sh: valgrind is not installed (apt-get install valgrind)" >&2
    exit 1
  fi
fi

./build.sh
# -gdwarf-4: Debian's valgrind 3.19 reads DWARF 4 fully; the rpath lets the sample run from anywhere.
${CC:-cc} -std=c11 -D_GNU_SOURCE -O1 -gdwarf-4 -Wall -Wextra -Werror -I include samples/generate.c \
  -L build -ldecodealign -lpthread -Wl,-rpath,'$ORIGIN' -o build/generate

echo "== C sample (native/samples/generate.c)"
./build/generate
echo
echo "== Python sample (native/samples/generate.py)"
python3 samples/generate.py build/libdecodealign.so
echo

echo "== C sample under valgrind (log: native/build/valgrind.log)"
vg_start=$SECONDS
# --num-callers=40: the runtime's stacks are deep, and a suppression must see the frame that called the allocator.
if ! valgrind --leak-check=full --error-exitcode=1 --num-callers=40 --suppressions=valgrind.supp \
     --log-file=build/valgrind.log ./build/generate >build/valgrind-sample.out 2>&1; then
  echo "valgrind: the sample failed or Memcheck reported errors; the sample's output and the end of the log:" >&2
  tail -n 20 build/valgrind-sample.out >&2
  grep -v "Warning: set address range perms" build/valgrind.log | tail -n 120 >&2
  exit 1
fi
grep -E "all checks passed" build/valgrind-sample.out
grep -E "definitely lost|indirectly lost|possibly lost|suppressed:|ERROR SUMMARY" build/valgrind.log | sed 's/^==[0-9]*== *//'
echo "valgrind: $((SECONDS - vg_start)) s"
echo "run-samples.sh: all samples passed in $((SECONDS - start)) s"
