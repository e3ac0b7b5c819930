"""Sanitising of uploaded report photos.

Every photo that enters the relay (REST upload or WhatsApp media) goes through `sanitise_photo`:

* the type is decided from the bytes (magic number, then Pillow restricted to that one format), never
  from a file name or a declared content type;
* the pixel count is checked against `max_pixels` from the header, before any pixel is decoded;
* the image is decoded fully; truncated or corrupt files are rejected (this module relies on Pillow's
  default ``ImageFile.LOAD_TRUNCATED_IMAGES = False`` and never changes it);
* EXIF orientation is applied to the pixels, the EXIF GPS position is read and returned separately;
* the picture is re-encoded from its pixels alone, so EXIF, GPS, XMP, ICC profiles, comments and PNG
  text chunks do not survive.

Output format: PNG input stays PNG (screenshots of chats or camera apps stay lossless and legible);
JPEG, WebP and HEIC become JPEG (quality 85), which every browser on the videowall can show. Any alpha
channel of a WebP or HEIC is flattened onto white.

Rejection codes (`PhotoRejected.code`): ``too_large``, ``not_an_image``, ``unsupported_format``,
``decompression_bomb``, ``truncated``, ``corrupt``.

Decoding is CPU-bound and takes up to seconds: the relay runs `sanitise_upload` in a worker process
(app.intake.photo_pool), never on the event loop. This module imports nothing of the app, so a worker
starts quickly.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import math
import os
import secrets
import struct
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import ExifTags, Image, ImageOps

JPEG_QUALITY = 85
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
# Image formats we recognise but do not accept, so the member gets a clearer message.
_OTHER_IMAGE_MAGIC = (b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*", b"\x00\x00\x01\x00")


class PhotoRejected(Exception):
    """The upload is not acceptable as a report photo; `detail_nl` can be shown to the sender. `pixels` is how
    many pixels were (partly) decoded before it was refused: they count towards the sender's budget."""

    def __init__(self, code: str, detail_nl: str, pixels: int = 0) -> None:
        super().__init__(f"{code}: {detail_nl}")
        self.code = code
        self.detail_nl = detail_nl
        self.pixels = pixels

    def __reduce__(self) -> tuple[type[PhotoRejected], tuple[str, str, int]]:
        # Raised in a worker process and pickled back: rebuild it from its fields, not from its message.
        return PhotoRejected, (self.code, self.detail_nl, self.pixels)


@dataclass(frozen=True)
class SanitisedPhoto:
    content: bytes
    media_type: str
    extension: str
    width: int
    height: int
    gps: tuple[float, float] | None


def _register_heif_opener() -> bool:
    # pillow-heif (or its decode-only sibling pi-heif) is optional: without it HEIC is "unsupported".
    for module_name in ("pillow_heif", "pi_heif"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        module.register_heif_opener()
        return True
    return False


HEIF_SUPPORTED = _register_heif_opener()


def _too_large(max_bytes: int) -> PhotoRejected:
    megabytes = max_bytes / (1024 * 1024)
    return PhotoRejected("too_large", f"De foto is te groot (maximaal {megabytes:.0f} MB).")


def _not_an_image() -> PhotoRejected:
    return PhotoRejected("not_an_image", "Het bestand is geen foto (JPEG, PNG of WebP).")


def _unsupported() -> PhotoRejected:
    return PhotoRejected(
        "unsupported_format", "Dit soort afbeelding wordt niet ondersteund; stuur een JPEG, PNG of WebP."
    )


def _bomb(max_pixels: int) -> PhotoRejected:
    return PhotoRejected("decompression_bomb", f"De afbeelding heeft te veel pixels om veilig te verwerken "
                                               f"(maximaal {max_pixels / 1_000_000:.0f} megapixel).")


def _truncated(pixels: int = 0) -> PhotoRejected:
    return PhotoRejected("truncated", "De foto is niet volledig ontvangen; stuur hem opnieuw.", pixels)


def _corrupt(pixels: int = 0) -> PhotoRejected:
    return PhotoRejected("corrupt", "De foto is beschadigd en kan niet worden gelezen.", pixels)


def sniff_format(data: bytes) -> str | None:
    """Pillow format name from the magic number, or None when it is not an accepted photo type."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(_PNG_SIGNATURE):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "HEIF"
    return None


def _looks_like_other_image(data: bytes) -> bool:
    is_isobmff = len(data) >= 12 and data[4:8] == b"ftyp"
    return is_isobmff or data.startswith(_OTHER_IMAGE_MAGIC)


def _check_container_complete(data: bytes, fmt: str) -> None:
    # Pillow accepts a WebP or PNG cut off after the pixel data; treat those as incomplete uploads too.
    if fmt == "WEBP":
        (riff_size,) = struct.unpack("<I", data[4:8])
        if len(data) < riff_size + 8:
            raise _truncated()
    elif fmt == "PNG" and data.rfind(b"IEND") == -1:
        raise _truncated()


def _pixel_limit(max_pixels: int) -> int:
    # Pillow's own limit only warns; applying it here too keeps the outcome independent of the
    # process-wide warnings filter, which catch_warnings() below changes in a thread-unsafe way.
    pillow_limit = Image.MAX_IMAGE_PIXELS
    return max_pixels if pillow_limit is None else min(max_pixels, pillow_limit)


def _open_and_decode(data: bytes, fmt: str, max_pixels: int) -> Image.Image:
    pixels = 0  # known once the header is read; what a failed decode cost
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[fmt])
            width, height = image.size
            if width <= 0 or height <= 0:
                raise _corrupt()
            if width * height > _pixel_limit(max_pixels):
                raise _bomb(_pixel_limit(max_pixels))
            pixels = width * height
            image.load()
    except PhotoRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(_pixel_limit(max_pixels)) from exc
    except Image.UnidentifiedImageError as exc:
        raise _corrupt(pixels) from exc
    except OSError as exc:
        raise (_truncated(pixels) if "truncated" in str(exc) else _corrupt(pixels)) from exc
    except (ValueError, SyntaxError, EOFError, struct.error, IndexError, MemoryError) as exc:
        raise _corrupt(pixels) from exc
    return image


def _dms_to_degrees(dms: object, ref: object, negative_ref: str) -> float | None:
    if not isinstance(dms, tuple) or len(dms) != 3:
        return None
    try:
        degrees, minutes, seconds = (float(part) for part in dms)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(value):
        return None
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if isinstance(ref, str) and ref.strip().upper() == negative_ref:
        value = -value
    return value


def extract_gps(image: Image.Image) -> tuple[float, float] | None:
    """(latitude, longitude) in decimal degrees from EXIF, or None when absent or nonsensical."""
    try:
        gps_ifd = image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:  # malformed EXIF must never cost us the photo itself
        return None
    tags = ExifTags.GPS
    lat = _dms_to_degrees(gps_ifd.get(tags.GPSLatitude), gps_ifd.get(tags.GPSLatitudeRef), "S")
    lon = _dms_to_degrees(gps_ifd.get(tags.GPSLongitude), gps_ifd.get(tags.GPSLongitudeRef), "W")
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    if lat == 0 and lon == 0:  # "null island": a camera without a fix
        return None
    return round(lat, 7), round(lon, 7)


def _upright(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # a broken orientation tag: keep the pixels as stored
        return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _to_8bit(image: Image.Image) -> Image.Image:
    if image.mode.startswith("I;16") or image.mode == "I":
        # 16-bit greyscale (PNG): scale down instead of letting convert() clip everything to white.
        return image.convert("I").point(lambda value: value / 256).convert("L")
    return image


def _pixels_for(image: Image.Image, target: str) -> Image.Image:
    """Convert to a plain mode for the target format and copy only the pixels (no info, no palette)."""
    image = _to_8bit(image)
    if target == "PNG":
        mode = "RGBA" if _has_alpha(image) else ("L" if image.mode in ("1", "L") else "RGB")
        converted = image.convert(mode)
    elif _has_alpha(image):
        rgba = image.convert("RGBA")
        converted = Image.new("RGB", rgba.size, (255, 255, 255))
        converted.paste(rgba, mask=rgba.getchannel("A"))
    else:
        converted = image.convert("L" if image.mode in ("1", "L") else "RGB")
    return Image.frombytes(converted.mode, converted.size, converted.tobytes())


def _encode(image: Image.Image, target: str) -> bytes:
    buffer = io.BytesIO()
    if target == "PNG":
        image.save(buffer, "PNG")
    else:
        image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def _identify(data: bytes) -> str:
    fmt = sniff_format(data)
    if fmt == "HEIF" and not HEIF_SUPPORTED:
        raise _unsupported()
    if fmt is None:
        raise _unsupported() if _looks_like_other_image(data) else _not_an_image()
    return fmt


def sanitise_photo(data: bytes, *, max_bytes: int, max_pixels: int) -> SanitisedPhoto:
    """Validate `data` as a photo and return a clean re-encoded copy; raises `PhotoRejected`."""
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    fmt = _identify(data)
    _check_container_complete(data, fmt)
    target = "PNG" if fmt == "PNG" else "JPEG"
    with _open_and_decode(data, fmt, max_pixels) as image:
        gps = extract_gps(image)
        try:
            clean = _pixels_for(_upright(image), target)
        except (ValueError, OSError) as exc:  # an exotic colour mode Pillow cannot convert
            raise _unsupported() from exc
    content = _encode(clean, target)
    media_type, extension = ("image/png", "png") if target == "PNG" else ("image/jpeg", "jpg")
    return SanitisedPhoto(content, media_type, extension, clean.width, clean.height, gps)


@dataclass(frozen=True)
class SanitisedUpload:
    photo: SanitisedPhoto
    digest: str  # SHA-256 of the bytes as uploaded, for idempotency


def sanitise_upload(data: bytes, max_bytes: int, max_pixels: int) -> SanitisedUpload:
    """`sanitise_photo` plus the digest of the original, in one call: what a photo worker runs."""
    photo = sanitise_photo(data, max_bytes=max_bytes, max_pixels=max_pixels)
    return SanitisedUpload(photo, hashlib.sha256(data).hexdigest())


def _safe_name(name: str) -> str:
    if not name or name != Path(name).name or name.startswith("."):
        raise ValueError(f"invalid stored photo name: {name!r}")
    return name


def store_photo(content: bytes, directory: Path, extension: str) -> str:
    """Write `content` under a random name in `directory` (atomically) and return that name."""
    if not extension.isalnum():
        raise ValueError(f"invalid extension: {extension!r}")
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{extension}"
    fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_path, directory / name)
    except BaseException:
        Path(tmp_path).unlink(missing_ok=True)
        raise
    return name


def delete_photo(directory: Path, name: str) -> None:
    """Remove a stored photo (rollback); a missing file is not an error."""
    (directory / _safe_name(name)).unlink(missing_ok=True)
