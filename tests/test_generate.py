import numpy as np

from qa.generate import _NotFirst

PIECES = {0: "[", 1: " [2", 2: "Wendy", 3: " Sherman", 4: "]"}


def test_reply_cannot_open_with_a_marker_but_may_use_one_later():
    steer = _NotFirst(PIECES.__getitem__, "[")
    first = steer(None, np.array([5.0, 4.0, 3.0, 1.0, 0.0], dtype=np.float32))
    assert int(np.argmax(first)) == 2  # "[" and " [2" are skipped: greedy now picks "Wendy"
    later = steer(None, np.array([5.0, 4.0, 3.0, 1.0, 0.0], dtype=np.float32))
    assert int(np.argmax(later)) == 0  # only the first token is steered


def test_an_allowed_first_choice_is_left_alone():
    logits = np.array([0.0, 1.0, 2.0, 9.0, 0.0], dtype=np.float32)
    assert np.array_equal(_NotFirst(PIECES.__getitem__, "[")(None, logits.copy()), logits)


class _Bytes:
    """Stands in for llama.cpp's detokenizer: token i is PIECES_B[i]."""

    def detokenize(self, ids):
        return b"".join(PIECES_B[i] for i in ids)


PIECES_B = [b"Caf", b"\xc3", b"\xa9", b" <|im", b"_end|>", b" more"]


def test_streamed_text_holds_back_half_characters_and_half_stop_strings():
    from qa.generate import LlamaGenerator

    gen = LlamaGenerator.__new__(LlamaGenerator)
    gen._stop = ["<|im_end|>"]
    llm = _Bytes()
    assert gen._text(llm, [0, 1]) == ("Caf", False)            # "é" is two bytes: wait for the second
    assert gen._text(llm, [0, 1, 2]) == ("Café", False)
    assert gen._text(llm, [0, 1, 2, 3]) == ("Café ", False)     # "<|im" may open the stop string
    assert gen._text(llm, [0, 1, 2, 3, 4, 5]) == ("Café ", True)  # it did: cut there, done
    assert gen._text(llm, [0, 1, 2, 3], final=True) == ("Café <|im", False)


class _RuleModel:
    """A toy model whose next token is NEXT[last token]: decode/undo keep a context as llama.cpp's KV does."""
    NEXT = {1: 2, 2: 3, 3: 4, 4: 5, 5: 6, 6: 19, 7: 1, 8: 1}  # 19 ends the turn
    V = 20

    def __init__(self, prompt):
        self.context, self.steps = list(prompt), 0

    def row(self, token):
        r = np.zeros(self.V, dtype=np.float32)
        r[self.NEXT.get(token, 19)] = 1.0
        return r

    def decode(self, tokens, every):
        self.steps += 1
        self.context += tokens
        return np.stack([self.row(t) for t in (tokens if every else tokens[-1:])])

    def undo(self, n):
        del self.context[-n:]


def _run(draft, prompt=(7, 1, 2, 3, 4, 5, 8, 1, 2), max_tokens=96, room=1000):
    from qa.generate import _greedy

    m = _RuleModel(prompt)
    pieces = list(_greedy(m.decode, m.undo, lambda: room - len(m.context), m.row(prompt[-1]), list(prompt),
                          max_tokens, draft, lambda t: t == 19))
    return [t for p in pieces for t in p], m


def test_guessing_ahead_gives_the_greedy_reply_in_fewer_steps():
    plain, one = _run(draft=0)
    guessed, many = _run(draft=4)
    assert plain == guessed == [3, 4, 5, 6]  # the prompt's "5, 8" is guessed after "4, 5"; the model says 6
    assert many.steps < one.steps
    # rejected guesses are forgotten: the context is the prompt and the reply, as without guessing
    assert many.context == one.context == [7, 1, 2, 3, 4, 5, 8, 1, 2, 3, 4, 5, 6]


def test_guessing_stops_at_the_token_limit_and_a_full_context():
    assert _run(draft=4, max_tokens=2)[0] == [3, 4]
    reply, m = _run(draft=4, room=11)  # room for two reply tokens in the context, and a third is chosen
    assert reply == [3, 4, 5] and len(m.context) == 11


def test_two_models_never_load_at_once(monkeypatch, tmp_path):
    # llama.cpp loading two models in two threads at once ended the process (exit 0, output lost)
    import threading
    import time

    import llama_cpp

    from qa.generate import LlamaGenerator

    state = {"now": 0, "most": 0}
    guard = threading.Lock()

    class SlowLlama:
        def __init__(self, **kwargs):
            with guard:
                state["now"] += 1
                state["most"] = max(state["most"], state["now"])
            time.sleep(0.05)
            with guard:
                state["now"] -= 1

    monkeypatch.setattr(llama_cpp, "Llama", SlowLlama)
    gens = [LlamaGenerator(str(tmp_path / f"m{i}.gguf")) for i in range(3)]
    threads = [threading.Thread(target=g.load) for g in gens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert state["most"] == 1 and all(isinstance(g._llm, SlowLlama) for g in gens)
