"""The text generator: message kinds in table 3.1's proportions, offences as in sec. 3.2, chat style, and the
same messages again for the same seed."""

from __future__ import annotations

import random
from collections import Counter

from app.simulation import texts

STREETS = ["Zonnestein", "Poortwachter", "Kruiskerk"]


def test_kinds_follow_table_3_1_and_offences_sec_3_2():
    rng = random.Random(1)
    messages = [texts.message(rng, STREETS) for _ in range(6000)]
    kinds = Counter(m.kind for m in messages if not m.appearance_only)
    total = sum(texts.KIND_WEIGHTS.values())
    for kind, weight in texts.KIND_WEIGHTS.items():
        assert abs(kinds[kind] / sum(kinds.values()) - weight / total) < 0.02, kind
    assert kinds.most_common(2)[0][0] == "signalement"  # "signalementen worden het meest gedeeld"
    offences = Counter(m.offence for m in messages if m.kind in ("delict", "signalement") and m.offence)
    assert [offence for offence, _ in offences.most_common(2)] == ["autokraak", "woninginbraak"]
    flagged = sum(m.appearance_only for m in messages) / len(messages)
    assert 0.01 < flagged < 0.05


def test_messages_read_like_a_neighbourhood_chat():
    rng = random.Random(2)
    messages = [texts.message(rng, STREETS) for _ in range(500)]
    assert all(any(street.lower() in m.text.lower() for street in STREETS) or m.kind == "overig"
               or m.kind == "informatie" for m in messages)
    assert sum(m.text[:1].islower() for m in messages) > 250  # mostly typed without capitals
    assert any(any(e in m.text for e in texts.EMOJI) for m in messages)
    now = [m for m in messages if m.in_progress and m.kind in ("delict", "signalement")]
    assert 0.15 < sum(m.called_112 for m in now) / len(now) < 0.55  # SAAR: some call 112 first


def test_english_only_where_asked_and_the_same_seed_gives_the_same_messages():
    english = [texts.message(random.Random(seed), STREETS, english=True).text for seed in range(300)]
    assert any(" the " in text for text in english)
    dutch = [texts.message(random.Random(seed), STREETS).text for seed in range(300)]
    assert not any(" the " in text for text in dutch)
    assert dutch == [texts.message(random.Random(seed), STREETS).text for seed in range(300)]


def test_alert_texts_name_behaviour_and_place_without_personal_details():
    rng = random.Random(3)
    for kind in texts.ALERTS:
        text = texts.alert_text(rng, kind, STREETS)
        assert any(street in text for street in STREETS) and "112" in text
