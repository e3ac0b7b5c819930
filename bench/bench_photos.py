"""Do photo uploads slow everyone else down? p50/p99 of text reports and of /healthz, with and without photos
being uploaded at the photo rate limit, in the same run, against one uvicorn worker on SQLite.

Each round has two phases of equal length, in turn: "quiet" (text reports and health checks only) and
"photos" (the same, while photo senders upload). Text reports and health checks are sent open loop at a
fixed rate (on schedule, not after the previous answer), so a stalled server shows as latency. Each photo
sender uploads at its beheerder's budget of decoded megapixels per minute (MELDKAMER_PHOTO_MEGAPIXELS_PER_
MINUTE): phone photos of 12 MP, four per report, or a flat 24 MP PNG that is small on the wire but costs
seconds to decode (the abuse case of issue 12). Figures are medians over the rounds; quote the ratios.

Run: .venv/bin/python bench/bench_photos.py [--seconds 20] [--rounds 3] [--photo-senders 3] [--pool process]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import percentile, report_rows, row, served_app  # noqa: E402
from loadgen import ConnectionPool  # noqa: E402

TEXT_RATE = 20.0  # text reports per second, spread over the text senders
HEALTH_RATE = 20.0
BUDGET_MEGAPIXELS = 200  # per beheerder per minute (the default)
TEXTS = ["Er wordt nu ingebroken aan de Zonnestein", "Verdacht busje in de Populierenlaan, kijken in auto's",
         "Gisteren fiets gestolen bij het Westwijkplein", "Man met rode capuchon kijkt bij woningen naar binnen"]


@dataclass(frozen=True)
class PhotoLoad:
    name: str
    photos: tuple[bytes, ...]
    megapixels: float  # decoded, per request

    @property
    def interval(self) -> float:
        """Seconds between requests that keep a sender at its budget."""
        return 60.0 * self.megapixels / BUDGET_MEGAPIXELS


def phone_photo(seed: int) -> bytes:
    """A 12 MP JPEG that compresses like a photo (a gradient with sensor-like noise), ~4 MB."""
    width, height = 4000, 3000
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((width, height), 20 + seed).convert("RGB")
    buffer = io.BytesIO()
    Image.blend(base, noise, 0.35).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def flat_png() -> bytes:
    """24 MP of one colour: about 70 kB on the wire, seconds of decoding and re-encoding."""
    buffer = io.BytesIO()
    Image.new("RGB", (6000, 4000), (200, 40, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def multipart(report: dict, photos: tuple[bytes, ...]) -> tuple[bytes, str]:
    boundary = f"meldkamerbench{random.getrandbits(64):016x}"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="report"\r\nContent-Type: application/json'
             f'\r\n\r\n{json.dumps(report)}\r\n'.encode()]
    for index, data in enumerate(photos):
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="foto{index}"\r\n'
                     f'Content-Type: application/octet-stream\r\n\r\n'.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@dataclass
class Phase:
    text: list[float] = field(default_factory=list)
    health: list[float] = field(default_factory=list)
    photo: list[float] = field(default_factory=list)  # latency of accepted photo uploads
    photo_status: dict[int, int] = field(default_factory=dict)
    errors: int = 0


async def _timed(pool: ConnectionPool, method: str, path: str, body: bytes, headers: dict[str, str]
                 ) -> tuple[int, float]:
    started = time.perf_counter()
    status, _ = await pool.request(method, path, body, headers)
    return status, time.perf_counter() - started


async def open_loop(rate: float, seconds: float, send) -> None:
    """Calls `send()` as a task every 1/rate seconds for `seconds`, then waits for all of them."""
    start, tasks = time.perf_counter(), []
    for index in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(send()))
    await asyncio.gather(*tasks)


async def text_and_health(base: str, senders: list[tuple[str, int]], seconds: float, phase: Phase) -> None:
    pool = ConnectionPool(base, max_idle=3.0)
    bodies = [(token, json.dumps({"text": text, "group_id": group}).encode())
              for (token, group) in senders for text in TEXTS]
    turn = iter(range(10**9))

    async def text() -> None:
        token, body = bodies[next(turn) % len(bodies)]
        status, latency = await _timed(pool, "POST", "/api/v1/reports", body,
                                       {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        phase.text.append(latency)
        phase.errors += status != 201

    async def health() -> None:
        status, latency = await _timed(pool, "GET", "/healthz", b"", {})
        phase.health.append(latency)
        phase.errors += status != 200

    await asyncio.gather(open_loop(TEXT_RATE, seconds, text), open_loop(HEALTH_RATE, seconds, health))
    await pool.close()


async def photo_sender(base: str, token: str, group: int, load: PhotoLoad, seconds: float, phase: Phase) -> None:
    """One beheerder uploading at the budget: a request every `load.interval` seconds, from a random phase, each
    on a new connection (the server closes one that is idle for 5 s)."""
    deadline = time.perf_counter() + seconds
    await asyncio.sleep(random.uniform(0, min(load.interval, seconds / 2)))
    while time.perf_counter() < deadline:
        next_at = time.perf_counter() + load.interval
        body, content_type = multipart({"text": f"Foto's: {load.name}", "group_id": group}, load.photos)
        pool = ConnectionPool(base)
        status, latency = await _timed(pool, "POST", "/api/v1/reports", body,
                                       {"Authorization": f"Bearer {token}", "Content-Type": content_type})
        await pool.close()
        phase.photo_status[status] = phase.photo_status.get(status, 0) + 1
        if status == 201:
            phase.photo.append(latency)
        await asyncio.sleep(max(0.0, min(next_at, deadline) - time.perf_counter()))


def _ms(values: list[float], fraction: float) -> float:
    return round(percentile(values, fraction) * 1000, 1)


def summarise(phase: Phase) -> dict:
    return {"text_p50_ms": _ms(phase.text, 0.5), "text_p99_ms": _ms(phase.text, 0.99),
            "health_p50_ms": _ms(phase.health, 0.5), "health_p99_ms": _ms(phase.health, 0.99),
            "photo_uploads": dict(sorted(phase.photo_status.items())),
            "photo_upload_p50_ms": _ms(phase.photo, 0.5) if phase.photo else None, "errors": phase.errors}


async def run_phase(base: str, text_senders: list[tuple[str, int]], photo_senders: list[tuple[str, int, PhotoLoad]],
                    seconds: float) -> dict:
    phase = Phase()
    await asyncio.gather(text_and_health(base, text_senders, seconds, phase),
                         *(photo_sender(base, token, group, load, seconds, phase)
                           for token, group, load in photo_senders))
    return summarise(phase)


def _median(rounds: list[dict], key: str) -> float:
    return round(statistics.median(r[key] for r in rounds), 1)


async def main(seconds: float, rounds: int, photo_senders: int, pool: str) -> dict:
    env = {"MELDKAMER_INTAKE_REPORTS_PER_MINUTE": "100000000", "MELDKAMER_INTAKE_BURST": "100000000",
           "MELDKAMER_PHOTO_MEGAPIXELS_PER_MINUTE": str(BUDGET_MEGAPIXELS), "MELDKAMER_PHOTO_POOL_KIND": pool}
    phone = PhotoLoad("4 telefoonfoto's van 12 MP", tuple(phone_photo(seed) for seed in range(4)), 48.0)
    bomb = PhotoLoad("vlakke PNG van 24 MP", (flat_png(),), 24.0)
    load_before = os.getloadavg()[0]
    with served_app(env) as (base, demo, database_url):
        beheerders = [(b["token"], b["group_ids"][0]) for b in demo["beheerders"]]
        photo_load = [(token, group, bomb if index == 0 else phone)
                      for index, (token, group) in enumerate(beheerders[:photo_senders + 1])]
        text_senders = beheerders[photo_senders + 1:]
        await run_phase(base, text_senders, [], 3)  # warm up: knowledge base, connections, the photo worker
        quiet, loaded = [], []
        for _ in range(rounds):
            quiet.append(await run_phase(base, text_senders, [], seconds))
            loaded.append(await run_phase(base, text_senders, photo_load, seconds))
    shutil.rmtree(Path(database_url.split("///", 1)[1]).parent / "photos", ignore_errors=True)  # ~200 MB a run
    summary: dict = {"pool": pool, "photo_senders": {"phone_photos": photo_senders, "flat_png": 1},
                     "rounds": rounds, "seconds_per_phase": seconds,
                     "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)]}  # a shared machine
    for key in ("text_p50_ms", "text_p99_ms", "health_p50_ms", "health_p99_ms"):
        summary[key] = {"quiet": _median(quiet, key), "photos": _median(loaded, key),
                        "ratio": round(_median(loaded, key) / max(_median(quiet, key), 0.1), 2)}
    summary["photo_upload_p50_ms"] = statistics.median(r["photo_upload_p50_ms"] or 0 for r in loaded)
    summary["per_round"] = {"quiet": quiet, "photos": loaded}
    return summary


def rows_of(summary: dict) -> list[dict]:
    """For bench/results/latest.json: each latency while photos upload, against the quiet phase as its floor."""
    names = {"text": "text reports", "health": "GET /healthz"}
    rows = [row(f"photos: {names[key.split('_')[0]]} while photos upload", key.split("_")[1],
                summary[key]["photos"], "ms", summary[key]["quiet"])
            for key in ("text_p50_ms", "text_p99_ms", "health_p50_ms", "health_p99_ms")]
    rows.append(row("photos: accepted photo upload", "p50", summary["photo_upload_p50_ms"], "ms"))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--photo-senders", type=int, default=3, help="beheerders uploading phone photos")
    parser.add_argument("--pool", choices=("process", "thread"), default="process")
    args = parser.parse_args()
    result = asyncio.run(main(args.seconds, args.rounds, args.photo_senders, args.pool))
    report_rows(rows_of(result))
    print(json.dumps(result, indent=2))
