"""Every offence and word class of config/triage.yaml carries examples; they are the proof of its phrases.

An offence's `match` texts must be found as that offence (a crime or behaviour aimed at it), its `no_match`
texts not; a class's `match` texts contain the class (in the text or its lemma view, as the engine matches),
its `no_match` texts do not. The file's shape is checked at load: unknown keys, bad patterns and a class or
offence without examples are errors that name their place and line; the code's defaults are the file's
values.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.triage.knowledge import KnowledgeBase, load_lexicon
from app.triage.lexicon import Doc, PatternCompiler
from app.triage.lexicon.morphology import LemmaDoc
from app.triage.lexicon.schema import LexiconSchemaError, MorphologyModel, SettingsModel
from app.triage.text import analyse_text
from tests.triage.helpers import CONFIG

RAW: dict[str, Any] = yaml.safe_load((CONFIG / "triage.yaml").read_text(encoding="utf-8"))
AT = datetime.fromisoformat("2026-11-19T15:10:00+01:00")

OFFENCE_CASES = [(name, text, kind == "match") for name, spec in RAW["offences"].items()
                 for kind in ("match", "no_match") for text in spec["examples"][kind]]
CLASS_CASES = [(name, text, kind == "match") for name, spec in RAW["classes"].items()
               for kind in ("match", "no_match") for text in spec["examples"][kind]]


@pytest.mark.parametrize(("offence", "text", "expected"), OFFENCE_CASES)
def test_offence_examples(kb: KnowledgeBase, offence: str, text: str, expected: bool) -> None:
    found = {c.offence for c in analyse_text(text, AT, kb.compiled).candidates}
    assert (offence in found) is expected, found


@pytest.mark.parametrize(("name", "text", "expected"), CLASS_CASES)
def test_class_examples(kb: KnowledgeBase, name: str, text: str, expected: bool) -> None:
    matcher = PatternCompiler(kb.lexicon.classes).matcher(name, [f"<{name}>"])
    assert bool(LemmaDoc(Doc.from_text(text), kb.compiled.morphology).spans(matcher)) is expected


def test_every_offence_and_class_has_examples() -> None:
    specs = [*RAW["offences"].values(), *RAW["classes"].values()]
    assert all(spec["examples"]["match"] and spec["examples"]["no_match"] for spec in specs)


def test_a_class_without_examples_is_an_error_naming_its_place(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda t: t.replace(
        '    examples: {match: ["een scooter", "op een brommer"], no_match: ["een fiets"]}\n', ""))
    with pytest.raises(LexiconSchemaError, match=r"classes\.moped\.examples: Field required"):
        load_lexicon(path)


def test_the_code_defaults_are_the_values_the_file_sets() -> None:
    for model, section in ((SettingsModel, RAW["settings"]), (MorphologyModel, RAW["morphology"])):
        for name, field in model.model_fields.items():
            if name in section and (field.default or not isinstance(field.default, list | dict)):
                assert field.default == section[name], f"{model.__name__}.{name}"


def _write(tmp_path: Path, change: Any) -> Path:
    text = (CONFIG / "triage.yaml").read_text(encoding="utf-8")
    path = tmp_path / "triage.yaml"
    path.write_text(change(text), encoding="utf-8")
    return path


def test_an_unknown_key_is_an_error_naming_its_place_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda t: t.replace("    label: Fietsdiefstal\n",
                                                "    label: Fietsdiefstal\n    lable: typo\n"))
    with pytest.raises(LexiconSchemaError) as err:
        load_lexicon(path)
    line = next(i for i, s in enumerate(path.read_text().splitlines(), 1) if "lable: typo" in s)
    assert "offences.fietsdiefstal.lable" in str(err.value)
    assert f"line {line}" in str(err.value)


def test_a_bad_pattern_is_an_error_naming_its_place(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda t: t.replace("      - 'fiets(en)?diefstal(len)?'\n",
                                                "      - 'fiets(en?diefstal'\n"))
    with pytest.raises(LexiconSchemaError, match=r"offences\.fietsdiefstal\.crime\.0: bad pattern"):
        load_lexicon(path)


def test_an_unknown_class_is_an_error_naming_its_place(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda t: t.replace("      - 'fiets(en)?diefstal(len)?'\n",
                                                "      - '<fietsen> weg'\n"))
    with pytest.raises(LexiconSchemaError, match=r"offences\.fietsdiefstal\.crime\.0: unknown word class"):
        load_lexicon(path)
