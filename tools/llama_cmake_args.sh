#!/usr/bin/env bash
# Print the CMAKE_ARGS setup.sh builds llama-cpp-python with, for this CPU (x86_64) or the defaults elsewhere.
# Why explicit ISA flags and not GGML_NATIVE: -march=native also compiles in AMX, which some VMs advertise
# (amx_tile, amx_int8 in /proc/cpuinfo) but do not run: a native build died with "Illegal instruction" on
# the first prompt on one such machine. AMX stays off; an explicit list names what is compiled in.
# Only what qa loads is compiled: no multimodal library (LLAVA_BUILD=OFF), no llama.cpp common library.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
args="-DLLAVA_BUILD=OFF -DCMAKE_PROJECT_llama.cpp_INCLUDE=$here/llama-minimal.cmake -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF"
if [ "$(uname -m)" = x86_64 ] && [ -r /proc/cpuinfo ]; then
  flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  has() { case "$flags" in *" $1 "*) return 0;; *) return 1;; esac; }
  onoff() { if has "$1"; then echo ON; else echo OFF; fi; }
  avx512=OFF
  if has avx512f && has avx512cd && has avx512vl && has avx512dq && has avx512bw; then avx512=ON; fi
  [ "${QA_BUILD_AVX512:-1}" = 0 ] && avx512=OFF   # a CPU that advertises AVX-512 but runs it slowly
  args="$args -DGGML_NATIVE=OFF -DGGML_SSE42=$(onoff sse4_2) -DGGML_AVX=$(onoff avx) -DGGML_F16C=$(onoff f16c)"
  args="$args -DGGML_FMA=$(onoff fma) -DGGML_BMI2=$(onoff bmi2) -DGGML_AVX2=$(onoff avx2) -DGGML_AVX_VNNI=$(onoff avx_vnni)"
  args="$args -DGGML_AVX512=$avx512"
  if [ "$avx512" = ON ]; then
    args="$args -DGGML_AVX512_VBMI=$(onoff avx512vbmi) -DGGML_AVX512_VNNI=$(onoff avx512_vnni) -DGGML_AVX512_BF16=$(onoff avx512_bf16)"
    # The weight repacking (REPACK) turns Q4_K into 8x8 blocks for AVX2 kernels. With AVX-512 the plain
    # kernels are faster: prompt 92-114 vs 51-77 tokens/s (Q4_K_M 1.5B, 2 threads, 512-token prompt), generation
    # within 3%. With AVX2 only, repacking wins (prompt 51 vs 42-47), so it stays on there.
    args="$args -DGGML_CPU_REPACK=OFF"
  fi
  args="$args -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
fi
echo "$args"
