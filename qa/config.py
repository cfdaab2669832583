"""One flat configuration: a frozen dataclass, overridden by QA_* environment
variables (`QA_TOP_K=6`) and then by CLI flags / keyword arguments."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository (editable install)


@dataclass(frozen=True)
class Config:
    docs: tuple[str, ...] = (str(ROOT / "seeds"),)  # files or folders to answer from
    index_dir: str = str(ROOT / "index")            # where the persisted index lives
    model: str = ""                                  # GGUF path; "" = registry default
    embedder: str = ""                               # sentence-transformers path; "" = packaged MiniLM
    top_k: int = 5                                   # passages retrieved for the model (a set not read whole)
    focus_chars: int = 800                           # ...cut to their best sentences within this many characters
                                                     # (retrieve.focus); 0 = the top_k passages whole
    whole_chars: int = 12000                         # a set whose chunks total at most this is read whole
    chunk_sentences: int = 3                         # sentences per chunk
    chunk_overlap: int = 1                           # sentences shared by neighbouring chunks
    max_chunk_chars: int = 800                       # hard cap on a chunk's length
    min_dense: float = 0.15                          # below this best cosine: abstain without the LLM (top-k sets)
    min_support: float = 0.55                        # answer check (check.py): abstain below this P(yes); 0 = off
    stated_support: float = 0.40                     # ...or below it, down to this, for a negative fact whose
                                                     # quoted sentences state every word of its question, itself
                                                     # not negated (steps.answer_check: "How did the talks in Geneva
                                                     # end?" by "… ended with no breakthrough", 0.48)
    check_model: str = ""                            # model for the answer check; "" = the answering model
    reread: int = 1                                  # 1: a reply the citation check rejects is asked
                                                     # again on its best source sentence (a set read
                                                     # whole: on a collection it won nothing); 0 = off
    agree: int = 1                                   # 1: a fact or reason must hold the phrase the model copies from
                                                     # its quoted sentences as the shortest answer (steps.agree)
    confirm: int = 1                                 # 1: a set not read whole asks an answer's question again on
                                                     # its quoted sentences alone; a reply that then abstains
                                                     # or fails the citation check withholds it; 0 = off
    confirm_below: float = 0.85                      # ...only for an answer whose answer-check P(yes) is below this
                                                     # (corpus dev: it withheld none above 0.82); 1.01 = always
    retry: int = 1                                   # 1: a set not read whole asks a withheld fact or reason again on
                                                     # the best passage the reply did not cite; 0 = off
    retry_support: float = 0.80                      # ...whose answer must reach this answer-check P(yes)
    recite_support: float = 0.60                     # a fact the answer check withheld is read against the other
                                                     # sentences holding its words (retrieve.holding), and shown
                                                     # where one reaches this answer-check P(yes); 0 = off
    n_ctx: int = 4096                                # model context window (tokens)
    n_threads: int = 0                               # 0 = physical cores
    n_batch: int = 512                               # prompt-processing batch size
    max_tokens: int = 96                             # cap on generated tokens
    draft_tokens: int = 0                            # prompt-lookup tokens guessed per step; 0 = one at a time
                                                     # (a step on 5 tokens costs 4.3 on 1 with the AVX-512 build:
                                                     # `qa models` says whether guessing pays on a machine)
    seed: int = 0                                    # sampling seed (decoding is greedy anyway)
    llm_url: str = ""                                # an OpenAI-compatible server (http://127.0.0.1:8080/v1)
                                                     # answers instead of the GGUF; "" = in-process (qa/remote.py)
    llm_model: str = ""                              # the model name sent to llm_url; "" = the first it lists
    llm_timeout: float = 120.0                       # seconds llm_url may stay silent before qa gives up
    max_question_chars: int = 2000                   # longer questions are refused
    max_upload_mb: float = 50.0                      # larger uploads to the chat are refused (qa serve)
    upload_types: str = ""                           # suffixes an upload may have (".txt,.md"); "" = all qa reads
    max_queue: int = 16                              # requests waiting for the model before the server says busy

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> "Config":
        """Defaults, then QA_<FIELD> variables, then non-None keyword overrides."""
        env = os.environ if env is None else env
        values = {}
        for f in fields(cls):
            raw = env.get("QA_" + f.name.upper())
            if raw is None or raw == "":
                continue
            if f.name == "docs":
                values[f.name] = tuple(p for p in raw.split(os.pathsep) if p)
            elif isinstance(f.default, int):
                values[f.name] = int(raw)
            elif isinstance(f.default, float):
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        values.update({k: (tuple(v) if k == "docs" else v) for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)

    def upload_suffixes(self) -> set[str]:
        """The suffixes an upload may have: those of upload_types that qa reads, or every kind it reads.

        >>> sorted(Config(upload_types="TXT, .md").upload_suffixes())
        ['.md', '.txt']
        """
        from .documents import SUFFIXES

        given = {"." + s.strip().lower().lstrip(".") for s in self.upload_types.split(",") if s.strip()}
        return given & SUFFIXES if given else set(SUFFIXES)

    def threads(self) -> int:
        if self.n_threads > 0:
            return self.n_threads
        return max(1, (os.cpu_count() or 2))
