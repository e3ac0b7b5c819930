"""The triage lexicon (config/triage.yaml), by job:

- `spec`: the YAML mapping parsed and validated into plain specs (`parse_lexicon`);
- `compile`: specs turned into matchers (`compile_lexicon`);
- `document`: a report's text normalised into tokens and sentences (`Doc`);
- `match`: the matchers run against a `Doc`;
- `fastpath`: what lets them skip most of a text (prefix gates, regexes without capturing groups).

Everything is pure: the caller hands in the parsed YAML mapping (from a file or a database row).
"""

from app.triage.lexicon.compile import CompiledLexicon, OffenceMatchers, PatternCompiler, compile_lexicon
from app.triage.lexicon.document import Doc, Span, normalise
from app.triage.lexicon.match import Element, Frame, Matcher
from app.triage.lexicon.spec import (
    REQUIRED_SIGNALS,
    FrameSpec,
    Lexicon,
    LexiconError,
    OffenceSpec,
    RuleSpec,
    TimeSpec,
    parse_lexicon,
)

__all__ = [
    "REQUIRED_SIGNALS", "CompiledLexicon", "Doc", "Element", "Frame", "FrameSpec", "Lexicon", "LexiconError",
    "Matcher", "OffenceMatchers", "OffenceSpec", "PatternCompiler", "RuleSpec", "Span", "TimeSpec",
    "compile_lexicon", "normalise", "parse_lexicon",
]
