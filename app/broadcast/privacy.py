"""Privacy and stigma check for texts that leave the police: alerts to beheerders and feedback notes.

Police information shared with groups names behaviour, places and times, never personal details of
suspects or victims (domain.md). We warn on phone numbers, e-mail addresses, Dutch licence plates (the
sidecodes), house numbers (possibly a private address), BSN-like numbers (the 11-test), people's names
(after "meneer", "mevrouw", "genaamd", or a Dutch first name followed by a surname) and descriptions of looks
or origin without behaviour; the last one reuses the triage engine's appearance detection."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import phonenumbers
from faker.providers.person.nl_NL import Provider as DutchNames

from app.core.database import utcnow
from app.core.settings import config_dir
from app.triage.knowledge import load_lexicon
from app.triage.lexicon import CompiledLexicon, compile_lexicon
from app.triage.text import analyse_text

logger = logging.getLogger("app.broadcast.privacy")
WARNING_CODES = ("naam", "telefoonnummer", "emailadres", "kenteken", "huisnummer", "bsn", "uiterlijk")
MESSAGES = {
    "naam": "Het bericht bevat mogelijk de naam van een persoon. Noem geen namen van verdachten, slachtoffers of "
            "melders.",
    "telefoonnummer": "Het bericht bevat een telefoonnummer. Deel geen gegevens van verdachten, slachtoffers of "
                      "melders.",
    "emailadres": "Het bericht bevat een e-mailadres.",
    "kenteken": "Het bericht bevat een kenteken. Deel het alleen als het voertuig echt gezocht wordt.",
    "huisnummer": "Het bericht bevat een huisnummer, mogelijk van een woonadres. Noem liever de straat of buurt.",
    "bsn": "Het bericht bevat een nummer dat op een burgerservicenummer (BSN) lijkt.",
    "uiterlijk": "Het bericht beschrijft uiterlijk of afkomst zonder verdacht gedrag. Beschrijf wat iemand deed "
                 "(bijvoorbeeld in auto's kijken of aan deuren voelen), niet hoe iemand eruitziet.",
}
REDACTED = "[weggelaten]"
# Numbers the police itself publishes are not personal data.
PUBLIC_NUMBERS = frozenset({"112", "9008844", "8007000", "144"})

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SIDECODES = ("LL-DD-DD", "DD-DD-LL", "DD-LL-DD", "LL-DD-LL", "LL-LL-DD", "DD-LL-LL", "DD-LLL-D", "D-LLL-DD",
              "LL-DDD-L", "L-DDD-LL", "LLL-DD-L", "L-DD-LLL", "D-LL-DDD", "DDD-LL-D")


def _plate_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Dashed plates in any case; plates without dashes only in capitals (else words would match)."""
    def groups(sidecode: str, letter: str, sep: str) -> str:
        return sep.join(("[0-9]" if g[0] == "D" else letter) + f"{{{len(g)}}}" for g in sidecode.split("-"))

    dashed = "|".join(groups(code, "[A-Za-z]", "-") for code in _SIDECODES)
    compact = "|".join(groups(code, "[A-Z]", "") for code in _SIDECODES)
    edge_before, edge_after = r"(?<![\w-])", r"(?![\w-])"
    return (re.compile(f"{edge_before}(?:{dashed}){edge_after}"), re.compile(f"{edge_before}(?:{compact}){edge_after}"))


_PLATE_DASHED, _PLATE_COMPACT = _plate_patterns()
_STREET_SUFFIX = ("straat|laan|weg|plein|gracht|kade|singel|dreef|hof|pad|park|dijk|steeg|baan|ring|markt|wal|erf|"
                  "veld|zijde|hoven|akker|boulevard|plantsoen|kwartier|oord|rade|gaarde|donk|horst|sloot|burgwal|"
                  "straatweg|dwarsstraat|schans|haven")
_HOUSE_NUMBER = re.compile(
    rf"\b(?:[A-Za-zÀ-ÿ'.-]*(?:{_STREET_SUFFIX})|huisnummer|huisnr\.?|nummer|nr\.?)\s+(?P<number>\d{{1,5}}(?:\s?[a-zA-Z]\b|-\d{{1,4}})?)"
    r"(?![:.,]?\d)", re.IGNORECASE)
# "Poortwachter 12": a street without a recognisable suffix, then a number that counts no people, minutes or years.
_COUNTED = ("jaar|jarige|uur|u|min|minuten|minuut|sec|seconden|meter|m|km|euro|keer|stuks|dagen|weken|maanden|"
            "mannen|man|vrouwen|vrouw|personen|jongens|jongen|meisjes|kinderen|auto's|autos|fietsen|scooters")
_NAMED_STREET_NUMBER = re.compile(
    rf"\b(?!(?:Bel|Belt|Bellen|Tel|Bus|Lijn|Tram)\b)[A-ZÀ-Þ][a-zß-ÿ'-]{{2,}}\s+(?P<number>\d{{1,4}}(?:\s?[a-zA-Z]\b|-\d{{1,4}})?)(?![:.,]?\d)"
    rf"(?!\s*(?:{_COUNTED})\b)")
_BSN = re.compile(r"(?<![\d.-])(?:\d{9}|\d{3}[.\s-]\d{3}[.\s-]\d{3}|\d{4}[.\s-]\d{2}[.\s-]\d{3}|"
                  r"\d{3}[.\s-]\d{2}[.\s-]\d{2}[.\s-]\d{2})(?![\d.-]?\d)")


# A name: capitalised, perhaps double ("Jansen-Bakker"), perhaps after a tussenvoegsel ("de Vries").
_NAME_WORD = r"[A-ZÀ-Þ][a-zß-ÿ]+(?:-[A-ZÀ-Þ][a-zß-ÿ]+)?"
_TUSSENVOEGSEL = r"(?:van der|van den|van de|van 't|van|de|der|den|ter|ten|te|'t|op de|in 't)"
_TITLED_NAME = re.compile(
    rf"\b(?i:meneer|mevrouw|mevr\.|mw\.|dhr\.|de heer|juffrouw|familie|fam\.|genaamd|heet|naam is)\s+"
    rf"(?P<name>(?:{_TUSSENVOEGSEL}\s+)?{_NAME_WORD}(?:\s+(?:{_TUSSENVOEGSEL}\s+)?{_NAME_WORD})?)")
# First names from Faker's Dutch person provider (a list of names that are common in the Netherlands).
_FIRST_NAMES = sorted({*DutchNames.first_names_male, *DutchNames.first_names_female}, key=len, reverse=True)
_FIRST_AND_LAST_NAME = re.compile(
    rf"\b(?P<name>(?:{'|'.join(map(re.escape, _FIRST_NAMES))})\s+(?:{_TUSSENVOEGSEL}\s+)?{_NAME_WORD})\b")
# A surname from the same provider after any capitalised word ("Kees Bakker", "Joke de Vries"); its core, since
# the list has "de Vries" and a text may write "De Vries".
_SURNAMES = sorted({core for name in DutchNames.last_names if (core := name.split()[-1])[:1].isupper()}, key=len,
                   reverse=True)
_NOT_A_FIRST_NAME = frozenset(("de", "het", "een", "bij", "in", "op", "aan", "naar", "van", "voor", "achter", "om",
                               "nu", "net", "zojuist", "vandaag", "gisteren", "politie", "station", "let", "graag",
                               "meneer", "mevrouw", "heer", "juffrouw", "familie", "genaamd"))
_ANY_AND_LAST_NAME = re.compile(
    rf"\b(?P<name>(?P<first>{_NAME_WORD})\s+(?:(?i:{_TUSSENVOEGSEL})\s+)?(?:{'|'.join(map(re.escape, _SURNAMES))}))\b")
_PLACE_WORD = re.compile(rf"(?:{_STREET_SUFFIX})$", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    code: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class PrivacyWarning:
    code: str
    message: str
    matches: tuple[str, ...]


def passes_eleven_test(digits: str) -> bool:
    """The BSN 11-test: 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is a multiple of 11 (and not all zeros)."""
    if len(digits) != 9 or not digits.isdigit() or int(digits) == 0:
        return False
    total = sum(int(d) * weight for d, weight in zip(digits[:8], range(9, 1, -1), strict=True)) - int(digits[8])
    return total % 11 == 0


def _phones(text: str) -> Iterator[Finding]:
    for match in phonenumbers.PhoneNumberMatcher(text, "NL", leniency=phonenumbers.Leniency.VALID):
        if str(match.number.national_number) not in PUBLIC_NUMBERS:
            yield Finding("telefoonnummer", match.start, match.end, match.raw_string)


def _regex(code: str, pattern: re.Pattern[str], text: str, group: int | str = 0) -> Iterator[Finding]:
    for match in pattern.finditer(text):
        yield Finding(code, match.start(group), match.end(group), match.group(group))


def _bsns(text: str, taken: list[Finding]) -> Iterator[Finding]:
    for match in _BSN.finditer(text):
        overlaps = any(f.start < match.end() and match.start() < f.end for f in taken)
        if not overlaps and passes_eleven_test(re.sub(r"\D", "", match.group())):
            yield Finding("bsn", match.start(), match.end(), match.group())


def _names(text: str) -> Iterator[Finding]:
    """Names after a title or "genaamd", a first name followed by a capitalised word, and a capitalised word
    followed by a known surname; not a street named after someone ("Jan van Galenstraat")."""
    for pattern in (_TITLED_NAME, _FIRST_AND_LAST_NAME, _ANY_AND_LAST_NAME):
        for match in pattern.finditer(text):
            first = match.groupdict().get("first")
            if first is not None and first.casefold() in _NOT_A_FIRST_NAME:
                continue
            if pattern is _ANY_AND_LAST_NAME or not _PLACE_WORD.search(match.group("name")):
                yield Finding("naam", match.start("name"), match.end("name"), match.group("name"))


def personal_data(text: str) -> list[Finding]:
    """Every phone number, e-mail address, licence plate, house number and BSN-like number in `text`."""
    found = list(_phones(text))
    found += _regex("emailadres", _EMAIL, text)
    found += _regex("kenteken", _PLATE_DASHED, text)
    found += _regex("kenteken", _PLATE_COMPACT, text)
    found += _regex("huisnummer", _HOUSE_NUMBER, text, "number")
    found += [f for f in _regex("huisnummer", _NAMED_STREET_NUMBER, text, "number")
              if f.text not in PUBLIC_NUMBERS and not any(f.start == other.start for other in found)]
    found += _bsns(text, found)
    return sorted(found, key=lambda f: f.start)


class _LexiconCache:
    """The triage lexicon, compiled once and again when config/triage.yaml changes. A file that no longer
    loads keeps the last good version in use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: int | None = None
        self._compiled: CompiledLexicon | None = None

    def get(self, path: Path) -> CompiledLexicon | None:
        key = path.stat().st_mtime_ns
        with self._lock:
            if self._compiled is None or key != self._key:
                self._key = key
                try:
                    self._compiled = compile_lexicon(load_lexicon(path))
                except Exception:
                    logger.exception("triage lexicon %s does not load; appearance check uses the last good one", path)
            return self._compiled


_lexicon = _LexiconCache()


def appearance_without_behaviour(text: str, now: datetime | None = None) -> tuple[str, ...]:
    """The looks/origin phrases when `text` singles people out by them and names no behaviour, else ().

    Without any loadable lexicon this check is skipped (and logged) rather than blocking an alert."""
    lexicon = _lexicon.get(config_dir() / "triage.yaml")
    if lexicon is None:
        return ()
    analysis = analyse_text(text, now or utcnow(), lexicon)
    return tuple(analysis.appearance) if analysis.appearance_only else ()


def check_text(text: str) -> list[PrivacyWarning]:
    """One warning per kind of problem, in WARNING_CODES order, with what matched. Names are warned about only:
    the check cannot tell a name from a word well enough to remove it from a reporter's feedback."""
    matches: dict[str, list[str]] = {}
    for finding in [*personal_data(text), *_names(text)]:
        matches.setdefault(finding.code, []).append(finding.text)
    appearance = appearance_without_behaviour(text)
    if appearance:
        matches["uiterlijk"] = list(appearance)
    return [PrivacyWarning(code, MESSAGES[code], tuple(dict.fromkeys(matches[code])))
            for code in WARNING_CODES if code in matches]


def redact(text: str) -> tuple[str, tuple[str, ...]]:
    """`text` with personal data replaced by a marker, and the codes of what was removed."""
    findings = personal_data(text)
    parts: list[str] = []
    position = 0
    for finding in findings:
        if finding.start < position:
            continue
        parts += [text[position:finding.start], REDACTED]
        position = finding.end
    parts.append(text[position:])
    return "".join(parts), tuple(dict.fromkeys(f.code for f in findings))
