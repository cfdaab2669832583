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
