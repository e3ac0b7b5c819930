"""A report's text as the lexicon sees it: normalised, split into tokens and sentences."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field

_TOKEN = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")
_SENTENCE_BREAK = re.compile(r"(?<!\d)[.!?;]+|[.!?;]+(?!\d)|\n")
_TRANSLATE = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u201c": '"', "\u201d": '"',
                            "\u2013": "-", "\u2014": "-", "\u00b4": "'"})
_DROP = re.compile(r"[^\w\s.,!?;:'\"()/@#&+%=-]")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_SUBWORD_PART = re.compile(r"(?<=['-])[^'-]+")


def normalise(text: str) -> str:
    """Lower case, accents removed, curly quotes straightened, emoji and symbols dropped."""
    text = text.translate(_TRANSLATE)
    if not text.isascii():  # accents to base letters; emoji and other symbols go
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _SPACES.sub(" ", _DROP.sub(" ", text.lower())).strip()


@dataclass(frozen=True)
class Span:
    """Where a pattern matched: first and last token index, sentence number, the matched text."""

    start: int
    end: int
    sentence: int
    text: str


@dataclass(eq=False)
class Doc:
    """A normalised text with its tokens and sentences; caches element matches while it is analysed."""

    text: str
    token_starts: list[int]
    token_ends: list[int]
    token_sentence: list[int]
    tokens: list[str]
    cache: dict[int, list[Span]] = field(default_factory=dict)
    prefixes: frozenset[str] = frozenset()  # every 1-, 2- and 3-letter start of a word or word part
    # the text's next 1, 2 and 3 characters at every start of a word or word part -> those starts, ascending
    starts_at: Mapping[str, list[int]] = field(default_factory=dict)
    start_keys: frozenset[str] = frozenset()  # the keys of starts_at
    # set on a lemma view: the text it rewrites. A view's starts_at holds the words it changed only: a
    # pattern is tried there, and its matches elsewhere are the text's own (lexicon.match.Element)
    surface: Doc | None = None

    @classmethod
    def from_text(cls, raw: str) -> Doc:
        text = normalise(raw)
        breaks = [m.start() for m in _SENTENCE_BREAK.finditer(text)]
        starts: list[int] = []
        ends: list[int] = []
        sentence: list[int] = []
        tokens: list[str] = []
        words: list[tuple[int, str]] = []  # every token and every part of one after ' or -, with its start
        for m in _TOKEN.finditer(text):
            start = m.start()
            token = m.group()
            starts.append(start)
            ends.append(m.end())
            sentence.append(bisect_right(breaks, start))
            tokens.append(token)
            words.append((start, token))
            if "-" in token or "'" in token:  # the first part adds nothing: it starts like the token
                words.extend((start + part.start(), part.group()) for part in _SUBWORD_PART.finditer(token))
        found: set[str] = set()
        starts_at: dict[str, list[int]] = {}
        padded = text + "\0\0"  # three raw prefixes of different length at every start (no \0 in text)
        for start, word in words:
            found.update((word[:1], word[:2], word[:3]))
            for key in (padded[start], padded[start:start + 2], padded[start:start + 3]):
                at = starts_at.get(key)
                if at is None:
                    starts_at[key] = [start]
                else:
                    at.append(start)
        return cls(text, starts, ends, sentence, tokens, prefixes=frozenset(found), starts_at=starts_at,
                   start_keys=frozenset(starts_at))

    def view(self, forms: list[str]) -> Doc:
        """This text with its tokens replaced by `forms` (single words, as many as the tokens), keeping the
        punctuation between them: a lemma view of it."""
        text = self.text
        parts: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        changed_at: list[int] = []  # where a changed word or word part starts
        last = length = 0
        for start, end, token, form in zip(self.token_starts, self.token_ends, self.tokens, forms, strict=True):
            gap = text[last:start]
            parts.append(gap)
            length += len(gap)
            starts.append(length)
            parts.append(form)
            if form != token:
                changed_at.append(length)
                changed_at.extend(length + p.start() for p in _SUBWORD_PART.finditer(form))
            length += len(form)
            ends.append(length)
            last = end
        parts.append(text[last:])
        view_text = "".join(parts)
        padded = view_text + "\0\0"
        starts_at: dict[str, list[int]] = {}
        for at in changed_at:  # ascending
            for key in (padded[at], padded[at:at + 2], padded[at:at + 3]):
                starts_at.setdefault(key, []).append(at)
        changed = {key.rstrip("\0") for key in starts_at}
        return Doc(view_text, starts, ends, self.token_sentence, list(forms),
                   prefixes=self.prefixes | changed, starts_at=starts_at, start_keys=frozenset(starts_at),
                   surface=self)

    def span(self, start_char: int, end_char: int) -> Span:
        if not self.token_starts:
            return Span(0, 0, 0, self.text[start_char:end_char])
        first = max(0, bisect_right(self.token_starts, start_char) - 1)
        last = max(first, bisect_right(self.token_starts, max(start_char, end_char - 1)) - 1)
        return Span(first, last, self.token_sentence[first], self.text[start_char:end_char])
