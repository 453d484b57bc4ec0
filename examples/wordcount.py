"""Count words in pure Python: a loop over a text, splitting and tallying by hand.

Python bytecode holds the GIL (handing it over every 5 ms), so threads take turns and only
processes use more than one core. Bench it:

    gilbench bench wordcount:top_words --setup wordcount:sample_text
"""

import random


def top_words(text: str, n: int = 5) -> list:
    """The ``n`` most frequent words of ``text`` (runs of letters, lowercased) as ``(word, count)``
    pairs, most frequent first, ties by word. A word still open at the end is not counted."""
    counts: dict[str, int] = {}
    word = []
    for ch in text:
        if ch.isalpha():
            word.append(ch.lower())
        elif word:
            w = "".join(word)
            counts[w] = counts.get(w, 0) + 1
            word = []
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def sample_text(words: int = 20_000) -> dict:
    """Setup: ``{"text": ...}``, ``words`` words drawn from a 10-word vocabulary (seeded)."""
    rng = random.Random(3)
    vocabulary = [
        "the",
        "gil",
        "thread",
        "process",
        "python",
        "lock",
        "core",
        "wait",
        "bytecode",
        "speed",
    ]
    return {"text": " ".join(rng.choice(vocabulary) for _ in range(words))}
