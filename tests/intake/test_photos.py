import io
import os
from pathlib import Path

import pytest
from PIL import ExifTags, Image, PngImagePlugin

from app.intake import photos
from app.intake.photos import PhotoRejected, delete_photo, sanitise_photo, store_photo

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
SECRETS = (b"SECRETCAMMAKER", b"SECRET-COMMENT", b"SECRET-XMP", b"SECRET-ICC", b"SECRET-TEXT")


def sanitise(data: bytes, **overrides: int) -> photos.SanitisedPhoto:
    limits = {"max_bytes": MAX_BYTES, "max_pixels": MAX_PIXELS, **overrides}
    return sanitise_photo(data, **limits)


def gps_exif(lat: tuple[float, float, float], lat_ref: str, lon: tuple[float, float, float], lon_ref: str):
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SECRETCAMMAKER"
    exif[ExifTags.Base.Model] = "Model X"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = lat_ref
    gps[ExifTags.GPS.GPSLatitude] = lat
    gps[ExifTags.GPS.GPSLongitudeRef] = lon_ref
    gps[ExifTags.GPS.GPSLongitude] = lon
    return exif


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def photo_with_metadata() -> bytes:
    image = Image.effect_noise((64, 48), 40).convert("RGB")
    exif = gps_exif((52.0, 22.0, 12.5), "N", (4.0, 53.0, 42.3), "E")
    return encode(
        image,
        "JPEG",
        exif=exif.tobytes(),
        comment=b"SECRET-COMMENT",
        icc_profile=b"SECRET-ICC" * 8,
        xmp=b"<x:xmpmeta>SECRET-XMP</x:xmpmeta>",
    )


def reopen(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def assert_rejected(data: bytes, code: str, **overrides: int) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as caught:
        sanitise(data, **overrides)
    assert caught.value.code == code
    assert caught.value.detail_nl
    return caught.value


# --- metadata stripping -----------------------------------------------------------------------------


def test_jpeg_metadata_is_stripped_and_gps_returned() -> None:
    original = photo_with_metadata()
    assert all(secret in original for secret in SECRETS[:4])  # the fixture really carries them

    result = sanitise(original)

    assert result.media_type == "image/jpeg"
    assert result.extension == "jpg"
    assert (result.width, result.height) == (64, 48)
    assert result.gps is not None
    assert result.gps == pytest.approx((52 + 22 / 60 + 12.5 / 3600, 4 + 53 / 60 + 42.3 / 3600), abs=1e-6)
    for secret in SECRETS:
        assert secret not in result.content
    assert b"Exif" not in result.content
    assert b"ICC_PROFILE" not in result.content
    clean = reopen(result.content)
    assert clean.format == "JPEG"
    assert len(clean.getexif()) == 0
    assert not {"exif", "comment", "icc_profile", "xmp"} & set(clean.info)


def test_gps_south_and_west_are_negative() -> None:
    exif = gps_exif((33.0, 51.0, 54.0), "S", (151.0, 12.0, 36.0), "W")
    data = encode(Image.new("RGB", (8, 8), "white"), "JPEG", exif=exif.tobytes())

    lat, lon = sanitise(data).gps or (0.0, 0.0)

    assert lat == pytest.approx(-(33 + 51 / 60 + 54 / 3600), abs=1e-6)
    assert lon == pytest.approx(-(151 + 12 / 60 + 36 / 3600), abs=1e-6)


def test_photo_without_gps_has_none() -> None:
    assert sanitise(encode(Image.new("RGB", (8, 8), "red"), "JPEG")).gps is None


def test_nonsense_gps_is_ignored_not_fatal() -> None:
    exif = gps_exif((123.0, 0.0, 0.0), "N", (4.0, 0.0, 0.0), "E")
    data = encode(Image.new("RGB", (8, 8), "white"), "JPEG", exif=exif.tobytes())

    assert sanitise(data).gps is None


def test_png_text_chunks_and_exif_are_dropped_and_png_stays_png() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "SECRET-TEXT")
    info.add_text("Comment", "SECRET-TEXT", zip=True)
    info.add_itxt("Description", "SECRET-TEXT")
    exif = gps_exif((52.0, 5.0, 0.0), "N", (5.0, 7.0, 0.0), "E")
    original = encode(Image.new("RGB", (20, 10), (1, 2, 3)), "PNG", pnginfo=info, exif=exif.tobytes())
    assert b"tEXt" in original and b"eXIf" in original

    result = sanitise(original)

    assert result.media_type == "image/png"
    assert result.extension == "png"
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP", b"SECRET"):
        assert chunk not in result.content
    assert result.gps == pytest.approx((52 + 5 / 60, 5 + 7 / 60), abs=1e-6)
    clean = reopen(result.content)
    assert clean.format == "PNG"
    assert clean.getpixel((0, 0)) == (1, 2, 3)
    assert len(clean.getexif()) == 0


def test_png_transparency_is_kept() -> None:
    image = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    result = sanitise(encode(image, "PNG"))

    assert reopen(result.content).mode == "RGBA"


def test_webp_passes_and_becomes_jpeg() -> None:
    exif = gps_exif((51.0, 30.0, 0.0), "N", (3.0, 45.0, 0.0), "E")
    data = encode(Image.new("RGB", (30, 20), (0, 128, 255)), "WEBP", exif=exif.tobytes())

    result = sanitise(data)

    assert result.media_type == "image/jpeg"
    assert (result.width, result.height) == (30, 20)
    assert result.gps == pytest.approx((51.5, 3.75), abs=1e-6)
    assert b"SECRETCAMMAKER" not in result.content


def test_webp_with_alpha_is_flattened_onto_white() -> None:
    data = encode(Image.new("RGBA", (10, 10), (0, 0, 0, 0)), "WEBP", lossless=True)

    result = sanitise(data)

    r, g, b = reopen(result.content).convert("RGB").getpixel((5, 5))  # type: ignore[misc]
    assert min(r, g, b) > 240


def test_cmyk_jpeg_becomes_rgb() -> None:
    data = encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG")

    assert reopen(sanitise(data).content).mode == "RGB"


def test_sixteen_bit_png_is_scaled_not_clipped() -> None:
    data = encode(Image.new("I;16", (8, 8), 32768), "PNG")

    value = reopen(sanitise(data).content).getpixel((0, 0))

    assert value in range(120, 136)


def test_orientation_is_applied_to_the_pixels() -> None:
    image = Image.new("RGB", (60, 30), (255, 0, 0))
    image.paste((0, 0, 255), (30, 0, 60, 30))  # left half red, right half blue
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # viewer must rotate 90 degrees clockwise
    data = encode(image, "JPEG", exif=exif.tobytes(), quality=95)

    result = sanitise(data)

    assert (result.width, result.height) == (30, 60)
    clean = reopen(result.content).convert("RGB")
    top, bottom = clean.getpixel((15, 5)), clean.getpixel((15, 55))
    assert top[0] > 200 and top[2] < 60  # type: ignore[index]
    assert bottom[2] > 200 and bottom[0] < 60  # type: ignore[index]
    assert len(clean.getexif()) == 0


def test_output_passes_sanitising_again() -> None:
    first = sanitise(photo_with_metadata())

    second = sanitise(first.content)

    assert second.gps is None
    assert (second.width, second.height) == (first.width, first.height)


# --- rejections ---------------------------------------------------------------------------------------


def test_text_file_named_jpg_is_rejected(tmp_path: Path) -> None:
    fake = tmp_path / "foto.jpg"
    fake.write_bytes(b"Dit is geen foto maar een tekstbestand.\n")

    error = assert_rejected(fake.read_bytes(), "not_an_image")

    assert error.detail_nl == "Het bestand is geen foto (JPEG, PNG of WebP)."


def test_empty_upload_is_not_an_image() -> None:
    assert_rejected(b"", "not_an_image")


def test_gif_is_unsupported() -> None:
    assert_rejected(encode(Image.new("P", (8, 8)), "GIF"), "unsupported_format")


def test_jpeg_magic_with_garbage_is_corrupt() -> None:
    assert_rejected(b"\xff\xd8\xff\xe0" + os.urandom(400), "corrupt")


def test_truncated_jpeg_is_rejected() -> None:
    data = photo_with_metadata()

    assert_rejected(data[: len(data) * 2 // 3], "truncated")


def test_jpeg_missing_only_its_end_marker_is_rejected() -> None:
    data = encode(Image.effect_noise((64, 64), 50).convert("RGB"), "JPEG")

    assert_rejected(data[:-2], "truncated")


def test_truncated_png_is_rejected() -> None:
    data = encode(Image.effect_noise((64, 64), 50), "PNG")

    assert_rejected(data[: len(data) // 2], "truncated")
    assert_rejected(data[:-12], "truncated")  # pixel data complete, IEND missing


def test_truncated_webp_is_rejected() -> None:
    data = encode(Image.effect_noise((64, 64), 50).convert("RGB"), "WEBP")

    assert_rejected(data[: len(data) // 2], "truncated")


def test_pillow_decompression_bomb_is_rejected() -> None:
    bomb = encode(Image.new("1", (20000, 20000)), "PNG")  # ~50 kB on disk, 400 Mpx decoded
    assert len(bomb) < 100_000

    assert_rejected(bomb, "decompression_bomb")


def test_own_pixel_limit_is_checked_before_decoding() -> None:
    data = encode(Image.new("1", (7000, 7000)), "PNG")  # 49 Mpx: under Pillow's limit, over ours

    assert_rejected(data, "decompression_bomb", max_pixels=40_000_000)


def test_pillow_bomb_warning_becomes_rejection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    data = encode(Image.new("RGB", (40, 40)), "PNG")  # 1600 px: Pillow only warns

    assert_rejected(data, "decompression_bomb", max_pixels=10_000)


def test_oversized_upload_is_rejected() -> None:
    data = photo_with_metadata()

    error = assert_rejected(data, "too_large", max_bytes=len(data) - 1)

    assert "MB" in error.detail_nl


def test_truncated_images_are_not_allowed_globally() -> None:
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


# --- HEIC (optional dependency) -----------------------------------------------------------------------


def test_heic_is_converted_to_jpeg_with_gps() -> None:
    pytest.importorskip("pillow_heif")
    exif = gps_exif((52.0, 0.0, 36.0), "N", (4.0, 30.0, 0.0), "E")
    data = encode(Image.new("RGB", (32, 16), (200, 10, 10)), "HEIF", exif=exif.tobytes(), quality=80)

    result = sanitise(data)

    assert result.media_type == "image/jpeg"
    assert (result.width, result.height) == (32, 16)
    assert result.gps == pytest.approx((52.01, 4.5), abs=1e-6)
    assert b"SECRETCAMMAKER" not in result.content


def test_heic_without_library_is_unsupported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(photos, "HEIF_SUPPORTED", False)
    data = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64

    assert_rejected(data, "unsupported_format")


# --- storage ------------------------------------------------------------------------------------------


def test_store_photo_writes_atomically_under_random_name(tmp_path: Path) -> None:
    first = store_photo(b"abc", tmp_path / "photos", "jpg")
    second = store_photo(b"def", tmp_path / "photos", "jpg")

    assert first != second
    assert first.endswith(".jpg") and len(first) == 32 + 4
    assert (tmp_path / "photos" / first).read_bytes() == b"abc"
    assert sorted(p.name for p in (tmp_path / "photos").iterdir()) == sorted([first, second])


def test_store_photo_rejects_odd_extension(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        store_photo(b"abc", tmp_path, "../x")


def test_delete_photo_rolls_back_and_tolerates_missing(tmp_path: Path) -> None:
    name = store_photo(b"abc", tmp_path, "png")

    delete_photo(tmp_path, name)
    delete_photo(tmp_path, name)

    assert list(tmp_path.iterdir()) == []


def test_delete_photo_refuses_paths(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        delete_photo(tmp_path, "../etc/passwd")
