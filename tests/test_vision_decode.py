"""Decoding leaves no files behind, whatever the input."""

import io

import numpy as np
import pytest
from PIL import Image

from tinyms.errors import InvalidArgumentError
from tinyms.vision.images import decode_image


def encoded(image_format):
    buffer = io.BytesIO()
    Image.fromarray(np.full((6, 9), 77, dtype=np.uint8)).save(buffer, image_format)
    return buffer.getvalue()


@pytest.mark.parametrize("image_format", ["GIF", "WEBP", "PNG", "JPEG", "BMP", "TIFF"])
def test_decode_writes_no_file(image_format, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    decoded = decode_image(encoded(image_format))
    assert decoded.shape == (6, 9, 3)
    assert decoded.dtype == np.uint8
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("payload", [b"not an image", encoded("PNG")[:30], b"GIF89a\x00"])
def test_undecodable_bytes_raise_and_write_nothing(payload, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidArgumentError, match="Cannot decode"):
        decode_image(payload)
    assert list(tmp_path.iterdir()) == []
