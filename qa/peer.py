"""The peer for `qa bench --peer`: LlamaIndex, out of the box, on our GGUF, embedder and questions.

Same model file, threads, batch and answer-length cap; the same MiniLM
embedder through HuggingFaceEmbedding; a FAISS flat inner-product store. Everything
else is LlamaIndex's default: 1024-token chunks (SentenceSplitter), top-2 retrieval, a
3900-token context, or ours if larger (in 2048 its two chunks would not fit and each query would refine),
`index.as_query_engine()` and `CitationQueryEngine.from_args(index)`.
llama_index is imported here only; install it with the `bench` extra.
"""
from __future__ import annotations

import re
import time

from . import documents, models
from .config import Config
from .embed import packaged_minilm_path
from .errors import QAError
from .metrics import Scored, aggregate, contains_answer, percentile, strip_citations

# Qwen2.5's chat template, as the GGUF's own template renders it (with its default system prompt).
QWEN_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
TURN = "<|im_start|>{role}\n{content}<|im_end|>\n"

PEER_CONTEXT = 3900  # LlamaCPP's default context_window; at 2048 its top-2 1024-token chunks don't fit and
#                     every query costs a second (refine) LLM call
_SOURCE = re.compile(r"\s*\[Source \d+(?:\s*,\s*(?:Source )?\d+)*\]")  # CitationQueryEngine's markers

# LlamaIndex has no abstention phrase; these are the ways the model says it cannot answer.
ABSTAINS = re.compile(
    r"\b(not (mentioned|stated|specified|provided|given|say|said|include[ds]?|contain(ed|s)?"
    r"|clear|known|available)"
    r"|(does|do|did)( not|n't) (say|mention|state|specify|provide|contain|include|give|indicate)"
    r"|no (information|mention|details?|answer)|cannot (be )?(answer|determine|find)|can't|unable to"
    r"|empty response|don't say)\b", re.I)


def completion_to_prompt(completion: str) -> str:
    """One user turn in Qwen's template, ready for the assistant's reply.

    >>> print(completion_to_prompt("Hi"))
    <|im_start|>system
    You are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>
    <|im_start|>user
    Hi<|im_end|>
    <|im_start|>assistant
    <BLANKLINE>
    """
    return TURN.format(role="system", content=QWEN_SYSTEM) + TURN.format(role="user", content=completion) \
        + "<|im_start|>assistant\n"


def messages_to_prompt(messages) -> str:
    roles = [str(getattr(m.role, "value", m.role)) for m in messages]
    head = "" if roles and roles[0] == "system" else TURN.format(role="system", content=QWEN_SYSTEM)
    return head + "".join(TURN.format(role=r, content=m.content or "") for r, m in zip(roles, messages)) \
        + "<|im_start|>assistant\n"


def abstained(text: str, golds) -> bool:
    """An answer that says it cannot answer and does not contain a gold answer anyway.

    >>> abstained("The context does not mention Ukraine's president.", [])
    True
    >>> abstained("It does not say; Wendy Sherman led it.", ["Sherman"])
    False
    """
    return bool(ABSTAINS.search(text)) and not contains_answer(text, golds)


def _timed(engine, items: list[dict]) -> tuple[list[float], list[Scored]]:
    totals, records = [], []
    for item in items:
        t0 = time.perf_counter()
        response = engine.query(item["question"])
        total = time.perf_counter() - t0
        text = strip_citations(_SOURCE.sub("", str(response))).strip()
        golds = tuple(item.get("answers", []))
        totals.append(total)
        records.append(Scored(
            id=str(item["id"]), answerable=item["answerable"], abstained=abstained(text, golds), answer=text,
            golds=golds, evidence=tuple(item.get("evidence", []) or []), quotes=(), quotes_valid=(),
            retrieved=tuple(n.node.get_content() for n in response.source_nodes), first_token_s=None,
            total_s=total))
    return totals, records


def require() -> None:
    """Raise QAError with the install command if llama_index is missing."""
    try:
        import llama_index.core  # noqa: F401
    except ImportError:
        raise QAError("the LlamaIndex peer is not installed: pip install -e '.[bench]'") from None


def load_llm(config: Config):
    """llama_index's LlamaCPP on our GGUF with our threads, batch and answer cap, greedy; its own
    default context (PEER_CONTEXT) unless ours is larger."""
    require()
    from llama_index.llms.llama_cpp import LlamaCPP

    n = config.threads()
    return LlamaCPP(model_path=str(models.resolve(config.model)), temperature=0, max_new_tokens=config.max_tokens,
                    context_window=max(config.n_ctx, PEER_CONTEXT), verbose=False,
                    model_kwargs={"n_threads": n, "n_threads_batch": n, "n_batch": config.n_batch,
                                  "seed": config.seed},
                    messages_to_prompt=messages_to_prompt, completion_to_prompt=completion_to_prompt)


def load_embedder(config: Config):
    require()
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    return HuggingFaceEmbedding(model_name=config.embedder or packaged_minilm_path(), device="cpu")


def run(config: Config, items: list[dict], warmup: str, llm=None,
        embed=None) -> tuple[dict, dict[str, list[Scored]]]:
    """(peer_* numbers, {"peer": records, "peer_citation": records}) for LlamaIndex's default
    query engine and its citation query engine over `items`. llm and embed default to the real ones."""
    require()
    import faiss
    from llama_index.core import Document, Settings, StorageContext, VectorStoreIndex
    from llama_index.core.query_engine import CitationQueryEngine
    from llama_index.vector_stores.faiss import FaissVectorStore

    llm, embed = llm or load_llm(config), embed or load_embedder(config)
    Settings.llm, Settings.embed_model = llm, embed  # so no default falls back to a hosted model

    docs = [Document(text=documents.text_of(d), id_=d) for d in documents.expand(config.docs)]
    t0 = time.perf_counter()
    store = FaissVectorStore(faiss_index=faiss.IndexFlatIP(len(embed.get_query_embedding("dimension"))))
    index = VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(vector_store=store),
                                            embed_model=embed)
    out, answers = {"peer_index_build_s": time.perf_counter() - t0}, {}

    for prefix, engine in (("peer", index.as_query_engine(llm=llm)),
                           ("peer_citation", CitationQueryEngine.from_args(index, llm=llm))):
        engine.query(warmup)
        totals, records = _timed(engine, items)
        answers[prefix], m = records, aggregate(records)
        out[f"{prefix}_total_p50_s"] = percentile(totals, 50)
        out[f"{prefix}_answerable_accuracy"] = m["answerable_accuracy"] if m["n_answerable"] else None
        out[f"{prefix}_unanswerable_abstention"] = m["unanswerable_abstention"] if m["n_unanswerable"] else None
    return out, answers
