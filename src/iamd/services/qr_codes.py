"""QR codes as PNG images (CreateVirtualMFADevice's QRCodePNG), drawn by segno."""

from __future__ import annotations

import io

# Pixels per module and the quiet zone: a size phone cameras and decoders read easily.
_SCALE = 6
_BORDER = 4


def qr_png(text: str) -> bytes:
    """A PNG image of a QR code holding `text` (error correction M, as authenticators use)."""
    # Imported here: only CreateVirtualMFADevice draws, and the server's start (which
    # compiles segno on the first one) need not wait a tenth of a second for it.
    import segno  # noqa: PLC0415

    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=_SCALE, border=_BORDER)
    return buffer.getvalue()
