"""Make a thumbnail with a C library: Pillow's resize, or zlib when Pillow is not installed.

Both run their C loops with the GIL released, so threads scale across cores. Bench it:

    gilbench bench thumbnails:thumbnail --setup thumbnails:sample_image  # needs Pillow
    gilbench bench thumbnails:compress --setup thumbnails:sample_image
"""

import hashlib
import zlib

SIZE = (2400, 1600)


def thumbnail(pixels: bytes, width: int = SIZE[0], height: int = SIZE[1]) -> str:
    """Resize raw RGB ``pixels`` to a quarter of each side (Lanczos); the SHA-256 hex digest
    of the result. Needs Pillow (pip install pillow); ValueError when the sizes do not match."""
    from PIL import Image

    image = Image.frombytes("RGB", (width, height), pixels)
    small = image.resize((width // 4, height // 4), Image.Resampling.LANCZOS)
    return hashlib.sha256(small.tobytes()).hexdigest()


def compress(pixels: bytes, width: int = SIZE[0], height: int = SIZE[1]) -> int:
    """zlib level 6 over ``pixels``; the compressed size in bytes (width and height unused)."""
    return len(zlib.compress(pixels, 6))


def sample_image() -> dict:
    """Setup: a deterministic RGB pattern of SIZE pixels, as raw bytes."""
    width, height = SIZE
    row = bytes((x * 7 + (x >> 3)) % 256 for x in range(3 * width))
    pixels = b"".join(row[y % 251 :] + row[: y % 251] for y in range(height))
    return {"pixels": pixels, "width": width, "height": height}
