"""The evaluation as CSV for a spreadsheet: one figure per line (section, group, wijk, gemeente, period,
measure, value), which a pivot table turns into any of the report's tables.

UTF-8 with a byte order mark, so that Excel reads the accents; with `;` as separator the decimals get a
comma, as a Dutch spreadsheet expects."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

HEADER = ("onderdeel", "groep", "wijk", "gemeente", "periode", "maat", "waarde")
BOM = "\ufeff"

_FOLLOW_UP_MEASURES = {
    "reports": "meldingen", "passed_to_police": "doorgegeven aan de politie", "called_112": "112 gebeld",
    "taken_on_by_meldkamer": "opgepakt door de meldkamer", "with_follow_up": "met opvolging",
    "no_known_follow_up": "zonder bekende opvolging", "no_known_follow_up_share": "aandeel zonder bekende opvolging",
}
_TIME_MEASURES = {"first_action": "eerste handeling centralist", "first_follow_up": "eerste opvolging",
                  "feedback_delivered": "terugkoppeling afgeleverd"}
_SPREAD_FIELDS = {"n": "aantal", "median_s": "mediaan (s)", "p90_s": "p90 (s)",
                  "within_baseline": "binnen 10 minuten", "within_baseline_share": "aandeel binnen 10 minuten"}
_ALERT_MEASURES = {"alerts": "alarmen", "recipients": "ontvangers", "delivered": "afgeleverd", "read": "gelezen",
                   "forwarded": "doorgestuurd", "failed": "mislukt", "pending": "nog onderweg",
                   "group_alerts": "groepen bereikt (per alarm)",
                   "group_alerts_forwarded": "groepen met doorgestuurd alarm", "coverage": "dekking"}
_APPEARANCE_MEASURES = {"reports": "meldingen", "flagged": "alleen uiterlijk", "share": "aandeel alleen uiterlijk",
                        "lifted": "verhoogd door centralist", "lowered": "verlaagd door centralist"}

Row = tuple[str, str, str, str, str, str, Any]


def _labels(data: dict[str, Any], kind: str) -> dict[str, str]:
    return {item["code"]: item["label"] for item in data["labels"][kind]}


def _place(row: dict[str, Any]) -> tuple[str, str, str]:
    return str(row.get("group") or ""), str(row.get("wijkcode") or ""), str(row.get("gemeentecode") or "")


def _categories(data: dict[str, Any]) -> Iterator[Row]:
    section, figures = "meldingen per soort", data["reports_by_category"]
    categories, offences = _labels(data, "categories"), _labels(data, "offences")
    rows = [(row, row["month"]) for row in figures["per_group"]]
    rows += [(row, "") for row in figures["per_wijk"]] + [(row, "") for row in figures["per_gemeente"]]
    for row, month in rows:
        group, wijk, gemeente = _place(row)
        yield section, group, wijk, gemeente, month, "meldingen", row["total"]
        for code, n in row["categories"].items():
            yield section, group, wijk, gemeente, month, f"soort: {categories.get(code, code)}", n
        for code, n in row["offences"].items():
            yield section, group, wijk, gemeente, month, f"delict: {offences.get(code, code)}", n
        if "households" in row:  # per wijk (app.stats.wijkmap); empty when the households are unknown
            yield section, group, wijk, gemeente, month, "huishoudens", row["households"]
            yield section, group, wijk, gemeente, month, "meldingen per 1.000 huishoudens", \
                row["reports_per_1000_households"]


def _follow_up(data: dict[str, Any]) -> Iterator[Row]:
    section, figures = "opvolging", data["follow_up"]
    follow_ups, results = _labels(data, "follow_ups"), _labels(data, "results")
    for row in [*figures["per_group"], {**figures, "group": "alle groepen"}]:
        group, wijk, gemeente = _place(row)
        for key, measure in _FOLLOW_UP_MEASURES.items():
            yield section, group, wijk, gemeente, "", measure, row[key]
        for code, n in row["follow_ups"].items():
            yield section, group, wijk, gemeente, "", f"opvolging: {follow_ups.get(code, code)}", n
        for code, n in row["results"].items():
            yield section, group, wijk, gemeente, "", f"resultaat: {results.get(code, code)}", n


def _per_month(data: dict[str, Any]) -> Iterator[Row]:
    section, figures = "meldingen per maand", data["per_month"]
    for row in [*figures["per_group"], {**figures, "group": "alle groepen"}]:
        group, wijk, gemeente = _place(row)
        for month in figures["months"]:
            yield section, group, wijk, gemeente, month, "meldingen", row["reports"][month]
            yield section, group, wijk, gemeente, month, "doorgegeven aan de politie", row["passed"][month]
        yield section, group, wijk, gemeente, "", "doorgegeven per maand (gemiddeld)", row["passed_per_month"]
    for week in data["per_week"]:
        yield "meldingen per week", "", "", "", week["week"], "meldingen", week["reports"]
        yield "meldingen per week", "", "", "", week["week"], "doorgegeven aan de politie", week["passed"]
        yield "meldingen per week", "", "", "", week["week"], "alleen uiterlijk", week["appearance_only"]


def _times(data: dict[str, Any]) -> Iterator[Row]:
    figures = data["times"]
    for row, month in [(figures, ""), *[(m, m["month"]) for m in figures["per_month"]]]:
        for key, name in _TIME_MEASURES.items():
            for field, measure in _SPREAD_FIELDS.items():
                yield "tijden", "", "", "", month, f"{name}: {measure}", row[key][field]


def _alerts(data: dict[str, Any]) -> Iterator[Row]:
    figures = data["alerts"]
    for row in [{**figures, "wijkcode": "alle wijken"}, *figures["per_wijk"]]:
        _, wijk, gemeente = _place(row)
        for key, measure in _ALERT_MEASURES.items():
            if key in row:
                yield "alarmen", "", wijk, gemeente, "", measure, row[key]
    ninety = figures["time_to_90_delivered"]
    for key, measure in (("alerts_reached", "alarmen die 90% bereikten"), ("median_s", "tijd tot 90%: mediaan (s)"),
                         ("p90_s", "tijd tot 90%: p90 (s)")):
        yield "alarmen", "", "alle wijken", "", "", measure, ninety[key]


def _appearance(data: dict[str, Any]) -> Iterator[Row]:
    figures = data["appearance_only"]
    rows = [({**figures, "wijkcode": "alle wijken"}, ""), *[(row, "") for row in figures["per_wijk"]],
            *[(row, row["month"]) for row in figures["per_month"]]]
    for row, month in rows:
        _, wijk, gemeente = _place(row)
        for key, measure in _APPEARANCE_MEASURES.items():
            yield "alleen uiterlijk", "", wijk, gemeente, month, measure, row[key]


_FILTER_NAMES = {"region": "regio", "gemeente": "gemeente", "wijk": "wijk", "group": "groep", "operation": "actie"}


def _filters(data: dict[str, Any]) -> Iterator[Row]:
    """The filters the figures were cut by (only those set), so that an exported file says what it counts."""
    period = f"{data['period']['from']} t/m {data['period']['to']}"
    for name, value in data["filters"].items():
        if value is not None:
            yield "filter", "", "", "", period, _FILTER_NAMES.get(name, name), value


SECTIONS = (_filters, _categories, _follow_up, _per_month, _times, _alerts, _appearance)


def _value(value: Any, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.4f}".rstrip("0").rstrip(".")
        return text.replace(".", ",") if decimal_comma else text
    return str(value)


def to_csv(data: dict[str, Any], separator: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator="\r\n")
    writer.writerow(HEADER)
    for section in SECTIONS:
        for row in section(data):
            writer.writerow([*row[:-1], _value(row[-1], decimal_comma=separator == ";")])
    return BOM + out.getvalue()
