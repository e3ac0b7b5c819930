"""Messages as beheerders forward them from their WhatsApp groups: Dutch chat style (no capitals, abbreviations,
emoji, the odd typo), sometimes English (Lastage has international residents), in the kinds of table 3.1 and
with the offences of sec. 3.2 of the research report.

Pure: everything comes from the `random.Random` passed in, so a seed gives the same messages again (the
history seeder relies on that for idempotency) and a live traffic simulator can draw from the same source."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

# Table 3.1 (reports per kind over the six groups; the scan of the table is partly unreadable, these shares
# follow its order: signalementen most, then delicten, verdachte situaties, informatiedeling, overig).
KIND_WEIGHTS = {"signalement": 36, "delict": 24, "verdachte_situatie": 17, "informatie": 11, "overig": 11,
                "vermissing": 1}
# Sec. 3.2: (attempted) car break-ins 17, burglaries 10, bike thefts 5, vandalism 4, and a few thefts from
# sheds, frauds, arson, nuisance and drug dealing.
OFFENCE_WEIGHTS = {"autokraak": 17, "woninginbraak": 10, "fietsdiefstal": 5, "vernieling": 4, "diefstal": 2,
                   "oplichting": 2, "overlast": 2, "brandstichting": 1, "drugshandel": 1}
APPEARANCE_ONLY_SHARE = 0.03  # sec. 4.3.1: rare, but it broke up a group
ENGLISH_SHARE = 0.2  # of the messages of a group with international residents
CALLED_112_SHARE = 0.35  # of the messages about something happening now (the SAAR rule)


@dataclass(frozen=True)
class Message:
    text: str
    kind: str  # the category it was written as (table 3.1, plus vermissing)
    offence: str | None
    in_progress: bool
    called_112: bool
    appearance_only: bool = False


NOW = ["nu", "net", "zojuist", "op dit moment", "nét", "5 min geleden", "nu net"]
EARLIER = ["vannacht", "gisteravond", "vanochtend", "vanmiddag", "afgelopen nacht", "gisteren rond 23u"]
CLOTHES = ["zwarte hoodie", "donkere jas", "grijs trainingspak", "rode capuchon", "blauwe bodywarmer", "wit petje",
           "groene parka", "zwarte spijkerbroek en witte sneakers", "donkerblauwe regenjas"]
BUILDS = ["lang en tenger", "klein postuur", "stevig gebouwd", "jaar of 20", "jaar of 40", "slank, ong 1.80"]
VEHICLES = ["een witte bestelbus", "een zwarte scooter", "een grijze golf", "een omafiets", "een rode fatbike",
            "een donkere audi zonder lichten"]
DIRECTIONS = ["richting het park", "richting de snelweg", "richting het centrum", "de steeg in", "richting station",
              "naar achteren"]
CALLED = ["112 gebeld", "politie is gebeld", "politie is onderweg", "heb 112 gebeld", "politie is op de hoogte"]
EMOJI = ["⚠️", "🚨", "👀", "‼️", "😡", "🙈", "📍"]

SIGNALEMENT: dict[str | None, list[str]] = {
    "autokraak": ["verdacht persoon kijkt {now} in auto's op de {street}, {clothes}, {build}",
                  "let op! man met {clothes} loopt langs de auto's op de {street} en trekt aan de portieren. {build}",
                  "{now} op de {street}: 2 jongens met {clothes} schijnen met zaklamp in auto's, weg {direction}"],
    "woninginbraak": ["{now} op de {street} 2 mannen met {clothes}, kijken bij woningen naar binnen en voelen aan "
                      "deuren",
                      "let op, op de {street} loopt iemand met {clothes} de achterpaden af en probeert poortjes, "
                      "{build}",
                      "man met {clothes} belt aan op de {street} en loopt weg als er iemand opendoet, {build}"],
    "fietsdiefstal": ["{now} bij de {street}: jongen met {clothes} knipt een fietsslot door, weg op {vehicle}",
                      "2 jongens met {clothes} lopen {now} langs de fietsenrekken op de {street} aan sloten te "
                      "trekken"],
    "diefstal": ["man met {clothes} loopt {now} bij de schuurtjes op de {street} te rommelen, {build}"],
    "vernieling": ["groepje jongens met {clothes} trapt {now} spiegels van auto's op de {street}, weg {direction}"],
    "drugshandel": ["{vehicle} staat al een uur op de {street}, steeds mensen die even instappen en weer uitstappen. "
                    "bestuurder met {clothes}"],
}
DELICT: dict[str | None, list[str]] = {
    "autokraak": ["{earlier} bij 3 auto's op de {street} de ruit ingeslagen, navigatie weg",
                  "{now} wordt er een auto opengebroken op de {street}!! glasgerinkel gehoord",
                  "auto van de buren op de {street} is {earlier} opengebroken, tas van de achterbank weg"],
    "woninginbraak": ["{earlier} ingebroken op de {street}, achterdeur opengebroken. let allemaal op",
                      "inbraak {now} bezig op de {street}!! iemand klimt door het keukenraam",
                      "{earlier} poging tot inbraak op de {street}, krassen op het slot van de voordeur"],
    "fietsdiefstal": ["{earlier} uit de schuur op de {street} 2 fietsen gestolen, slot doorgeknipt",
                      "mijn e-bike is {earlier} gestolen voor de deur op de {street}, wie heeft iets gezien?"],
    "diefstal": ["{earlier} is er ingebroken in de schuur op de {street}, gereedschap weg"],
    "vernieling": ["{earlier} op de {street} bij meerdere auto's de banden lek gestoken",
                   "bushokje op de {street} is {earlier} vernield, overal glas"],
    "oplichting": ["mijn moeder is {earlier} opgelicht door nepmonteurs aan de deur op de {street}, pinpas weg"],
    "brandstichting": ["container staat {now} in brand op de {street}!! brandweer gebeld"],
    "overlast": ["{now} weer jongeren die vuurwerk afsteken en rotzooi trappen op de {street}"],
}
VERDACHT: dict[str | None, list[str]] = {
    "autokraak": ["iemand loopt {now} langs alle geparkeerde auto's op de {street} en kijkt naar binnen",
                  "persoon zat te rommelen bij de parkeerautomaat en de auto's op de {street}"],
    "woninginbraak": ["iemand loopt {now} de achterpaden af op de {street} en kijkt over de schuttingen",
                      "er rijdt al 3x een auto stapvoets door de {street}, lijken huizen te bekijken"],
    None: ["raar, {vehicle} staat met draaiende motor op de {street}, al een half uur",
           "hoorde {earlier} een harde knal op de {street}, iemand anders ook?"],
}
INFORMATIE = [("oplichting", "Van de wijkagent: let op nepcollectanten met gele hesjes in de wijk. Niets geven!"),
              ("woninginbraak", "tip van de wijkagent: er wordt veel ingebroken via de achterpaden, doe poortjes op "
                                "slot en laat 's avonds licht aan"),
              ("autokraak", "Wijkagent meldt: de laatste week meerdere autokraken rond de {street}. Laat niks "
                            "zichtbaar liggen in de auto"),
              ("oplichting", "Waarschuwing politie: mensen aan de deur die zich voordoen als monteur, laat ze niet "
                             "binnen"),
              (None, "Van de wijkagent: donderdagavond extra surveillance in de wijk ivm het Donkere Dagen Offensief")]
OVERIG = ["onze kat is weg, grijs met witte pootjes, {street}. wie heeft hem gezien? 🙏",
          "weet iemand wie de eigenaar is van de auto die al dagen half op de stoep staat op de {street}?",
          "hondje gevonden op de {street}, bruin teckeltje zonder halsband",
          "bedankt allemaal voor het opletten!! 👍",
          "is de glasbak op de {street} weer vol? ruikt niet fris",
          "loos alarm, was de buurman die zijn sleutel kwijt was 😅",
          "straatverlichting op de {street} doet het weer niet, al gemeld bij de gemeente?"]
VERMISSING = ["mevrouw van ong 80 loopt verward op de {street}, weet niet waar ze woont. wie kent haar?",
              "onze zoon van 9 is niet thuisgekomen, laatst gezien op de {street} met {clothes}. politie is ingelicht"]
APPEARANCE_ONLY = ["ziet eruit als bulgaars of roemeens, loopt al de hele dag door de {street}",
                   "3 jongens die niet van hier zijn lopen door de {street}, graag even in de gaten houden"]
ENGLISH = {
    "signalement": ["guy in a {english_clothes} just tried the doors of parked cars on the {street}, walked off "
                    "{english_direction}"],
    "delict": ["someone broke into our car on the {street} last night, window smashed and bag gone"],
    "verdachte_situatie": ["two teens walking along the parked cars on the {street} pulling door handles"],
}
ENGLISH_CLOTHES = ["black hoodie", "grey tracksuit", "red cap"]
ENGLISH_DIRECTIONS = ["towards the station", "towards the park"]
ABBREVIATIONS = {"even": "ff", "misschien": "mss", "nummer": "nr", "ongeveer": "ong", "vanavond": "vnvd"}


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _fill(rng: random.Random, template: str, streets: Sequence[str], *, chat: bool = True) -> str:
    street = rng.choice(streets)
    return template.format(now=rng.choice(NOW), earlier=rng.choice(EARLIER), street=street.lower() if chat else street,
                           clothes=rng.choice(CLOTHES), build=rng.choice(BUILDS), vehicle=rng.choice(VEHICLES),
                           direction=rng.choice(DIRECTIONS), english_clothes=rng.choice(ENGLISH_CLOTHES),
                           english_direction=rng.choice(ENGLISH_DIRECTIONS))


def chat_style(rng: random.Random, text: str) -> str:
    """As people type in a hurry: mostly no capitals, abbreviations, sometimes emoji or a double letter."""
    if rng.random() < 0.6:
        text = text[0].lower() + text[1:]
    words = [ABBREVIATIONS.get(word, word) if rng.random() < 0.7 else word for word in text.split(" ")]
    text = " ".join(words)
    if rng.random() < 0.25:
        text = f"{rng.choice(EMOJI)} {text}"
    if rng.random() < 0.15:
        text = text.rstrip(".!") + "!!"
    return text


def _pick_offence(rng: random.Random, available: dict[str | None, list[str]]) -> str | None:
    weighted = {offence: OFFENCE_WEIGHTS.get(offence or "", 3) for offence in available}
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def _with_call(rng: random.Random, text: str, in_progress: bool) -> tuple[str, bool]:
    if in_progress and rng.random() < CALLED_112_SHARE:
        return f"{text}, {rng.choice(CALLED)}", True
    return text, False


_NOW = re.compile(r"\b(nu|net|nét|zojuist|bezig|op dit moment|min geleden)\b")


def _about_now(text: str) -> bool:
    return _NOW.search(text) is not None


def message(rng: random.Random, streets: Sequence[str], *, english: bool = False) -> Message:
    """One forwarded message of a kind drawn in table 3.1's proportions, about one of these streets."""
    if rng.random() < APPEARANCE_ONLY_SHARE:
        return Message(chat_style(rng, _fill(rng, rng.choice(APPEARANCE_ONLY), streets)), "verdachte_situatie",
                       None, False, False, appearance_only=True)
    kind = _weighted(rng, KIND_WEIGHTS)
    if english and kind in ENGLISH and rng.random() < ENGLISH_SHARE:
        text = _fill(rng, rng.choice(ENGLISH[kind]), streets)
        return Message(text, kind, "autokraak", kind != "delict", False)
    return _dutch(rng, kind, streets)


def _dutch(rng: random.Random, kind: str, streets: Sequence[str]) -> Message:
    if kind == "overig":
        return Message(chat_style(rng, _fill(rng, rng.choice(OVERIG), streets)), kind, None, False, False)
    if kind == "vermissing":
        return Message(chat_style(rng, _fill(rng, rng.choice(VERMISSING), streets)), kind, None, True, False)
    if kind == "informatie":
        offence, template = rng.choice(INFORMATIE)
        return Message(_fill(rng, template, streets), kind, offence, False, True)
    table = SIGNALEMENT if kind == "signalement" else DELICT if kind == "delict" else VERDACHT
    offence = _pick_offence(rng, table)
    text = _fill(rng, rng.choice(table[offence]), streets)
    in_progress = _about_now(text)
    text, called = _with_call(rng, text, in_progress)
    return Message(chat_style(rng, text), kind, offence, in_progress, called)


# Alerts from the meldkamer name behaviour, places and times, never personal details (domain.md, 2.3.3).
ALERTS = {
    "heterdaad": ["Zojuist is in de omgeving van de {street} ingebroken. De verdachten zijn gevlucht {direction}. "
                  "Ziet u iets verdachts? Bel 112.",
                  "Op dit moment wordt rond de {street} in auto's ingebroken. Let op personen die aan portieren "
                  "trekken en bel direct 112."],
    "signalement": ["Gezocht: een persoon die rond de {street} in auto's kijkt en aan portieren trekt, gekleed in "
                    "{clothes}. Ziet u deze persoon? Bel 112 en houd afstand."],
    "vermissing": ["Vermist: een verwarde oudere vrouw, laatst gezien bij de {street}. Heeft u haar gezien? Bel "
                   "direct 112."],
}


def alert_text(rng: random.Random, kind: str, streets: Sequence[str]) -> str:
    return _fill(rng, rng.choice(ALERTS[kind]), streets, chat=False)


def wijkagent_tip(rng: random.Random, streets: Sequence[str]) -> str:
    """A wijkagent's weekly information for the groups: modus operandi, places, times."""
    return _fill(rng, rng.choice(INFORMATIE)[1], streets, chat=False)
