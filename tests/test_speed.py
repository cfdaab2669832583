"""The speed self-test (qa/speed.py) and the slow-machine model pick (qa/models.py)."""
import json
import subprocess
import sys

import pytest

from qa import cli, models, speed
from qa.speed import Speed

FAST = Speed(prompt_tps=95, gen_tps=12.7, mem_gbs=20, gflops=150, weight_gb=1.1, params_b=1.78)
SLOW_MACHINE = Speed(prompt_tps=24, gen_tps=1.3, mem_gbs=1.5, gflops=50, weight_gb=1.1, params_b=1.78)
SLOW_BUILD = Speed(prompt_tps=24, gen_tps=1.3, mem_gbs=20, gflops=150, weight_gb=1.1, params_b=1.78)


def test_bounds_follow_bytes_read_per_token_and_flops_per_token():
    assert FAST.gen_bound_tps == pytest.approx(20 / 1.1)
    assert FAST.prompt_bound_tps == pytest.approx(150 / 3.56)
    assert FAST.gen_share == pytest.approx(12.7 / (20 / 1.1))


def test_verdict_tells_the_build_from_the_machine():
    assert (FAST.slow_build, FAST.slow_machine) == (False, False)
    assert verdict_of(FAST) == "the build runs at this machine's speed"
    assert (SLOW_MACHINE.slow_build, SLOW_MACHINE.slow_machine) == (False, True)
    assert "smaller packaged model" in verdict_of(SLOW_MACHINE)
    assert (SLOW_BUILD.slow_build, SLOW_BUILD.slow_machine) == (True, False)
    assert "rebuild" in verdict_of(SLOW_BUILD) and "bash setup.sh" in verdict_of(SLOW_BUILD)


def test_a_busy_machine_gets_no_verdict_on_the_build_or_the_machine():
    busy = Speed(prompt_tps=24, gen_tps=1.2, mem_gbs=20, gflops=150, weight_gb=1.1, params_b=1.78, others=0.6)
    assert (busy.busy, busy.slow_build, busy.slow_machine) == (True, False, False)
    assert "other processes took 60% of the CPU" in " ".join(speed.verdict(busy))


def test_another_process_spinning_shows_in_the_cpu_shares():
    child = subprocess.Popen([sys.executable, "-c", "import time\nt = time.time()\nwhile time.time() - t < 1.0: pass"])
    before = speed.cpu_times()
    child.wait()
    others, steal = speed.shares(before, speed.cpu_times())
    assert others > 0.2 and 0 <= steal <= 1  # a core of this machine spun by someone else, for most of the interval
    assert speed.cpu_times()[3] >= before[3]  # this process's own seconds only grow


def verdict_of(s):
    return speed.verdict(s)[-1]


def test_machine_bounds_are_measured():
    assert speed.mem_read_gbs(mb=16, rounds=1) > 0.1
    assert speed.matmul_gflops(n=128, rounds=1) > 0.1


def test_saved_self_test_round_trips_and_a_broken_file_is_no_advice(tmp_path):
    f = tmp_path / "speed.json"
    speed.save(SLOW_MACHINE, f)
    got = speed.load(f)
    assert got["slow_machine"] is True and got["gen_tps"] == 1.3 and got["gen_bound_tps"] == 1.364
    f.write_text("{not json")
    assert speed.load(f) is None
    assert speed.load(tmp_path / "missing.json") is None


@pytest.mark.parametrize("test, small_installed, want", [
    (SLOW_MACHINE, True, "qwen2.5-coder-0.5b-instruct"),
    (SLOW_MACHINE, False, "qwen2.5-coder-1.5b-instruct"),   # advice only: nothing to switch to
    (FAST, True, "qwen2.5-coder-1.5b-instruct"),
    (SLOW_BUILD, True, "qwen2.5-coder-1.5b-instruct"),      # the build is the fault: rebuild, keep the model
    (None, True, "qwen2.5-coder-1.5b-instruct"),
])
def test_a_slow_machine_gets_the_small_model_when_installed(tmp_path, monkeypatch, test, small_installed, want):
    f = tmp_path / "speed.json"
    if test:
        speed.save(test, f)
    monkeypatch.setattr(models, "SPEED_FILE", f)
    monkeypatch.setattr(models, "installed", lambda name: small_installed)
    name, why = models.default_name()
    assert name == want
    assert ("1.3 tokens/s" in why) == (name != models.registry()["default"])


@pytest.mark.slow
def test_qa_models_runs_the_self_test_on_the_real_build(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(models, "SPEED_FILE", tmp_path / "speed.json")
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert "speed self-test (qwen2.5-coder-1.5b-instruct" in out and "prompt " in out and "memory read" in out
    saved = json.loads((tmp_path / "speed.json").read_text())
    assert saved["gen_tps"] > 0 and saved["prompt_tps"] > 0 and saved["mem_gbs"] > 0
    assert saved["params_b"] == pytest.approx(1.78, abs=0.1) and "AVX" in saved["build"]
