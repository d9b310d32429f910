#!/usr/bin/env bash
# Builds libdecodealign.so and the managed assembly it hosts into native/build/:
#   build/libdecodealign.so   the C ABI (include/decodealign.h), nethost linked in statically
#   build/managed -> ../managed/bin/Release/net10.0   DecodeAlign.Native.dll, its runtimeconfig.json and dependencies
# The managed folder is linked, not copied: ONNX Runtime's packages bring ~240 MB of native builds for every platform.
set -euo pipefail
cd "$(dirname "$0")"

# The newest host pack the SDK has: nethost.h, hostfxr.h and libnethost.a come from it.
dotnet_root=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
hostpack=$(ls -d "$dotnet_root"/packs/Microsoft.NETCore.App.Host.linux-x64/*/runtimes/linux-x64/native 2>/dev/null | sort -V | tail -n 1)
if [[ -z "$hostpack" || ! -f "$hostpack/libnethost.a" ]]; then
  echo "build.sh: no Microsoft.NETCore.App.Host.linux-x64 pack with libnethost.a under $dotnet_root/packs" >&2
  exit 1
fi

dotnet build managed/DecodeAlign.Native.csproj -c Release -nologo -v quiet
mkdir -p build
ln -sfn ../managed/bin/Release/net10.0 build/managed
# libnethost.a carries clang's DWARF 5, which Debian's valgrind (3.19) cannot read and gives up on: link a copy without it.
objcopy --strip-debug "$hostpack/libnethost.a" build/libnethost.a

# -fvisibility=hidden and --exclude-libs: only the DA_API functions are exported; libnethost.a is C++, hence -lstdc++.
# -Wno-format-truncation: error messages are cut to the fixed error buffer on purpose.
${CC:-cc} -std=c11 -O2 -gdwarf-4 -Wall -Wextra -Werror -Wno-format-truncation -fPIC -shared -fvisibility=hidden \
  -I include -I "$hostpack" src/decodealign.c build/libnethost.a \
  -ldl -lpthread -lstdc++ -Wl,--no-undefined -Wl,--exclude-libs,ALL -Wl,-soname,libdecodealign.so \
  -o build/libdecodealign.so
echo "built $(pwd)/build/libdecodealign.so"
