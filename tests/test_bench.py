import json
import math
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from qa import bench, prompts
from qa.api import Pipeline
from qa.config import ROOT, Config
from qa.errors import QAError
from qa.evaluate import load_testset
from qa.peer import abstained, messages_to_prompt

from conftest import ScriptedGenerator, ToyEmbedder

ITEMS = [
    {"id": "a", "question": "Who led the American delegation?", "answers": ["Wendy Sherman"], "answerable": True},
    {"id": "b", "question": "Who is Ukraine's president?", "answers": [], "answerable": False},
    {"id": "c", "question": "What did Liz Truss say about Russia's troops?", "answers": ["unacceptable"],
     "answerable": True},
]
SHERMAN = "Wendy Sherman, the US deputy secretary of state, led the American delegation [1]."


class CountingGenerator(ScriptedGenerator):
    """Sets the token counters as LlamaGenerator does: prompt = words sent, completion = pieces."""

    def stream(self, messages, max_tokens=96, not_first=""):
        n = 0
        for piece in super().stream(messages, max_tokens):
            n += 1
            yield piece
        self.last_completion_tokens = n
        self.last_prompt_tokens = sum(len(m["content"].split()) for m in messages)


class FakeLlama:
    """Records what the raw-limit measurement asks of llama_cpp.Llama."""

    def __init__(self):
        self.calls = []

    def tokenize(self, text, add_bos=False):
        return list(range(len(text.split())))

    def reset(self):
        self.calls.append("reset")

    def eval(self, tokens):
        self.calls.append(len(tokens))

    def sample(self, temp):
        assert temp == 0.0
        return 7


def write(tmp_path, items=ITEMS):
    p = tmp_path / "set.jsonl"
    p.write_text("".join(json.dumps(i) + "\n" for i in items))
    return p


def test_pick_quick_is_first_answerable_and_first_unanswerable():
    assert [i["id"] for i in bench.pick(ITEMS, quick=True)] == ["a", "b"]
    assert bench.pick(ITEMS, quick=False) == ITEMS  # fewer than N_QUESTIONS: all


def test_default_subset_is_fixed_and_covers_both_kinds():
    items = load_testset(str(bench.DEFAULT_QUESTIONS))
    chosen = bench.pick(items, quick=False)
    assert len(chosen) == bench.N_QUESTIONS and chosen[0] is items[0] and chosen[-1] is items[-1]
    assert {i["answerable"] for i in chosen} == {True, False}
    assert chosen == bench.pick(items, quick=False)


def test_verdict_against_targets():
    assert bench.verdict("first_token_p50_s", 1.5) == "pass"
    assert bench.verdict("first_token_p50_s", 1.51) == "miss"
    assert bench.verdict("qa_gen_over_raw", 0.95) == "pass"
    assert bench.verdict("qa_gen_over_raw", 0.85) == "miss"
    assert bench.verdict("qa_total_over_peer", None) == "not run"
    assert bench.verdict("raw_gen_tps", 12.0) == ""
    assert set(bench.TARGETS) <= set(bench.KEYS)


def test_render_has_one_row_per_key_with_target_and_verdict():
    result = dict.fromkeys(bench.KEYS)
    result.update(total_p50_s=2.0, cold_start_s=12.25, raw_gen_tps=20.123456,
                  settings={"model": "m.gguf", "threads": 2, "n_batch": 512, "top_k": 4, "n": 2,
                            "questions": "q.jsonl"}, notes=["scale test failed"])
    md = bench.render(result)
    assert "model m.gguf, 2 threads, n_batch 512, top_k 4, 2 questions from q.jsonl" in md
    assert "| total_p50_s | 2 | ≤ 3.5 | pass |" in md
    assert "| cold_start_s | 12.25 | ≤ 10 | miss |" in md
    assert "| raw_gen_tps | 20.12 |  |  |" in md
    assert "| qa_gen_over_raw | - | ≥ 0.9 | not run |" in md
    assert "- scale test failed" in md
    assert sum(line.startswith("| ") for line in md.splitlines()) == len(bench.KEYS) + 2  # + header, rule


def test_raw_limit_times_prompt_then_greedy_tokens_from_a_reset_context():
    llm = FakeLlama()
    got = bench.raw_limit(llm, "one two three", n_prompt=10, n_gen=4)
    assert llm.calls == ["reset", 10, 1, 1, 1, 1, "reset"]
    assert got["raw_prompt_tps"] > 0 and got["raw_gen_tps"] > 0
    llm.calls.clear()
    bench.raw_limit(llm, "one two three", n_prompt=2, n_gen=1, rounds=2)
    assert llm.calls == ["reset", 2, 1, "reset", 2, 1, "reset"]


def test_config_env_round_trips(tmp_path):
    config = Config(docs=("a.txt", "b"), index_dir=str(tmp_path), top_k=6, min_dense=0.2, model="x.gguf")
    assert Config.from_env(bench.config_env(config)) == config


def test_ask_all_leaves_early_abstentions_out_of_first_token_and_prompt_size(toy_config):
    gen = CountingGenerator([SHERMAN])
    pipe = Pipeline(toy_config, embedder=ToyEmbedder(), generator=gen)
    sky = {"id": "s", "question": "What colour is the sky?", "answers": [], "answerable": False}  # no toy word
    m, records = bench.ask_all(pipe, [ITEMS[0], sky])
    assert len(gen.prompts) == 1  # the sky question abstained before the model
    assert m["prompt_tokens_mean"] == sum(len(x["content"].split()) for x in gen.prompts[0])
    assert m["first_token_p50_s"] == m["first_token_p95_s"] and m["total_p95_s"] >= m["total_p50_s"]
    assert m["answerable_accuracy"] == 1.0 and m["unanswerable_abstention"] == 1.0
    assert [(r.id, r.abstained) for r in records] == [("a", False), ("s", True)]


def test_ask_all_counts_tokens_and_accuracy(toy_config):
    gen = CountingGenerator([SHERMAN, prompts.ABSTAIN])
    pipe = Pipeline(toy_config, embedder=ToyEmbedder(), generator=gen)
    m, _ = bench.ask_all(pipe, ITEMS[:2])
    assert len(gen.prompts) == 2  # both questions reached the model
    sent = [sum(len(x["content"].split()) for x in p) for p in gen.prompts]
    assert m["prompt_tokens_mean"] == sum(sent) / 2
    assert m["answerable_accuracy"] == 1.0 and m["unanswerable_abstention"] == 1.0
    assert m["qa_gen_tps"] > 0 and m["first_token_p50_s"] <= m["total_p50_s"]


def test_run_writes_well_formed_bench_json_with_fakes(toy_config, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench, "cold_start", lambda config, question: (1.5, 100.0, {"total_s": 1.0}))
    pipe = Pipeline(toy_config, embedder=ToyEmbedder(),
                    generator=CountingGenerator(["Warm-up [1].", SHERMAN, prompts.ABSTAIN]))
    r = bench.run(toy_config, questions=str(write(tmp_path)), out=str(tmp_path / "out"), quick=True, pipeline=pipe)
    saved = json.loads((tmp_path / "out" / "bench.json").read_text())
    assert saved == json.loads(json.dumps(r))
    assert set(bench.KEYS) <= set(saved)
    assert saved["settings"]["ids"] == ["a", "b"] and saved["settings"]["n"] == 2 and saved["settings"]["quick"]
    assert set(saved["machine"]) == {"cpu_count", "cpu", "platform", "python"}
    assert saved["cold_start_s"] == 1.5 and saved["peak_rss_mb"] >= 100.0
    assert saved["raw_gen_tps"] is None and saved["scale_retrieve_p50_ms"] is None  # no Llama; quick: no scale
    assert saved["answerable_accuracy"] == 1.0 and saved["unanswerable_abstention"] == 1.0
    assert (tmp_path / "out" / "bench.md").read_text() in capsys.readouterr().out
    rows = [json.loads(x) for x in (tmp_path / "out" / "answers.jsonl").read_text().splitlines()]
    assert [(x["system"], x["id"], x["correct"]) for x in rows] == [("qa", "a", True), ("qa", "b", True)]


def test_peer_without_llama_index_fails_before_measuring(toy_config, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_index.core", None)  # import now raises ImportError
    gen = CountingGenerator([SHERMAN])
    pipe = Pipeline(toy_config, embedder=ToyEmbedder(), generator=gen)
    with pytest.raises(QAError, match=r"pip install -e '\.\[bench\]'"):
        bench.run(toy_config, peer=True, questions=str(write(tmp_path)), out=str(tmp_path / "o"), pipeline=pipe)
    assert gen.prompts == [] and not (tmp_path / "o").exists()


def test_scale_measures_hybrid_dense_and_bm25_search():
    r = bench.scale(n=2000, reps=5)
    assert r["scale_n"] == 2000 and r["scale_index"] == "IndexFlatIP"
    for key in ("scale_index_build_s", "scale_retrieve_p50_ms", "scale_dense_p50_ms", "scale_bm25_p50_ms",
                "scale_peak_rss_mb"):
        assert math.isfinite(r[key]) and r[key] > 0


def test_scale_child_reports_its_own_peak_memory_not_its_parents():
    ballast = bytearray(600 * 2**20)  # this process now peaks above 600 MB; the child stays far below
    ballast[::4096] = b"x" * len(ballast[::4096])
    out = subprocess.run([sys.executable, "-m", "qa.bench", "--scale", "300"], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert json.loads(out.stdout)["scale_peak_rss_mb"] < bench.rss_mb() - 300


def test_synthetic_corpus_is_seeded():
    a, b = bench.synthetic_corpus(50, dim=8), bench.synthetic_corpus(50, dim=8)
    assert a[0] == b[0] and (a[1] == b[1]).all() and a[2] == b[2]
    assert abs(float((a[1] ** 2).sum(axis=1).mean()) - 1) < 1e-5


def test_scale_child_prints_one_json_line():
    out = subprocess.run([sys.executable, "-m", "qa.bench", "--scale", "300"], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert json.loads(out.stdout)["scale_n"] == 300


def test_peer_prompt_and_abstention_judging():
    msgs = [SimpleNamespace(role=SimpleNamespace(value="user"), content="Hi")]
    assert messages_to_prompt(msgs).startswith("<|im_start|>system\nYou are Qwen")
    assert messages_to_prompt(msgs).endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    assert abstained("The provided context does not specify who the president is.", [])
    assert abstained("Empty Response", [])
    assert not abstained("Ms Truss said it was unacceptable.", ["unacceptable"])
    assert not abstained("Alexander Grushko represented Russia.", ["Grushko"])


def test_peer_runs_both_llama_index_engines_with_mock_models(toy_config):
    pytest.importorskip("llama_index.vector_stores.faiss")
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.llms import MockLLM

    from qa import peer

    out, answers = peer.run(toy_config, ITEMS[:2], "Who is Nato's chief?", llm=MockLLM(max_tokens=4),
                            embed=MockEmbedding(embed_dim=8))
    assert set(out) == {"peer_index_build_s", "peer_total_p50_s", "peer_answerable_accuracy",
                        "peer_unanswerable_abstention", "peer_citation_total_p50_s",
                        "peer_citation_answerable_accuracy", "peer_citation_unanswerable_abstention"}
    assert out["peer_answerable_accuracy"] == 0.0 and out["peer_unanswerable_abstention"] == 0.0  # "text text"
    assert [r.id for r in answers["peer"]] == ["a", "b"] and [r.id for r in answers["peer_citation"]] == ["a", "b"]
    assert answers["peer"][0].answer == "text text text text" and answers["peer"][0].retrieved


@pytest.mark.slow
def test_bench_quick_with_the_real_model(tmp_path):
    out = tmp_path / "bench"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    subprocess.run([sys.executable, "-m", "qa", "bench", "--quick", "--out", str(out)], cwd=ROOT, env=env,
                   check=True, timeout=900)
    r = json.loads((out / "bench.json").read_text())
    positive = ("raw_prompt_tps", "raw_gen_tps", "cold_start_s", "first_token_p50_s", "total_p50_s",
                "total_p95_s", "prompt_tokens_mean", "qa_gen_tps", "qa_gen_over_raw", "index_build_s",
                "retrieve_p50_ms", "peak_rss_mb")
    for key in positive:
        assert isinstance(r[key], (int, float)) and math.isfinite(r[key]) and r[key] > 0, key
    for key in ("answerable_accuracy", "unanswerable_abstention"):
        assert 0 <= r[key] <= 1
    assert set(bench.KEYS) <= set(r) and r["settings"]["n"] == 2 and r["machine"]["cpu_count"] >= 1
    assert "| first_token_p50_s |" in (out / "bench.md").read_text()


def test_ask_all_counts_the_answer_s_own_prompt_and_reply_not_the_readings_after_it(toy_config):
    """The shortest-answer reading and the confirming reading stream after the answer, and leave their own
    counts on the generator: session 16's bench reported an 87-token prompt and 1.5 generated tokens/s for
    the corpus, the shortest answer's prompt and 3-token phrase over the answer's time."""
    from dataclasses import replace

    gen = CountingGenerator([SHERMAN, "Wendy Sherman", SHERMAN])
    gen.support = [0.7]  # below confirm_below: the confirming reading runs too
    config = replace(toy_config, min_support=0.5, agree=1, confirm=1, confirm_below=0.85, retry=0)
    m, records = bench.ask_all(Pipeline(config, embedder=ToyEmbedder(), generator=gen), ITEMS[:1])
    assert len(gen.prompts) == 3 and not records[0].abstained  # the answer, the shortest answer, the confirming
    assert m["prompt_tokens_mean"] == sum(len(x["content"].split()) for x in gen.prompts[0])
    assert m["prompt_tokens_mean"] != sum(len(x["content"].split()) for x in gen.prompts[-1])
    assert m["qa_gen_tps"] > 0 and m["rereads"] == 0 and m["answerable_accuracy"] == 1.0
    assert "stream" not in vars(gen)  # the generator is left as it was
