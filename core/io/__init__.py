"""Image file input/output and the shared model preprocessing."""

from core.io.images import (
    IMAGE_EXTENSIONS,
    ImageReadError,
    list_images,
    load_images,
    read_image,
    to_model_input,
    write_image_atomic,
)

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageReadError",
    "list_images",
    "load_images",
    "read_image",
    "to_model_input",
    "write_image_atomic",
]
