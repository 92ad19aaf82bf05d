"""Lead images fetched once through the guarded client, checked, resized and served from our origin.

A reader's browser never asks a publisher for an image: that would tell the
publisher who reads what, break the page when the image moves, and leave its
size unbounded. A scheduled task works through the articles whose image is
not stored yet, in batches.
"""

import hashlib
import io
import logging
import warnings

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

from .fetch import FetchError, fetch
from .models import Article

logger = logging.getLogger(__name__)
# Raster formats only, each a decoder Pillow is asked to use and no other:
# SVG (a document that can run script) is never decoded nor served.
FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
IMAGE_ACCEPT = "image/webp,image/jpeg,image/png,image/gif;q=0.8"
# A decompression bomb is refused at this many pixels, before decoding.
MAX_PIXELS = 40_000_000
# The sizes the pages use: a card's thumbnail (16:9, cropped) and the lead's width.
THUMBNAIL = (640, 360)
LEAD_WIDTH = 1200
QUALITY = 80
BATCH = 20


class ImageProblem(Exception):
    """The image cannot be used; the reason is for editors."""


def decode(content):
    """The image in `content`, fully decoded and upright; ImageProblem otherwise."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            # Past MAX_PIXELS Pillow only warns, past twice it raises: both refuse.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=FORMATS) as probe:
                probe.verify()
            image = Image.open(io.BytesIO(content), formats=FORMATS)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageProblem(f"Too many pixels: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageProblem(f"Not a JPEG, PNG, GIF or WebP image ({exc.__class__.__name__}).") from exc
    image = ImageOps.exif_transpose(image)
    return image.convert("RGB")


def encode(image):
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=QUALITY, method=4)
    return buffer.getvalue()


def resized(image):
    """(thumbnail bytes, lead bytes), both WebP."""
    thumbnail = ImageOps.fit(image, THUMBNAIL, Image.Resampling.LANCZOS)
    lead = image.copy()
    if lead.width > LEAD_WIDTH:
        lead.thumbnail((LEAD_WIDTH, LEAD_WIDTH * 4), Image.Resampling.LANCZOS)
    return encode(thumbnail), encode(lead)


def fetch_image(url):
    try:
        response = fetch(url, accept=IMAGE_ACCEPT, max_bytes=settings.IMAGE_MAX_BYTES)
    except FetchError as exc:
        raise ImageProblem(f"Image fetch failed: {exc.reason}") from exc
    if response.content_type == "image/svg+xml" or not response.content_type.startswith("image/"):
        raise ImageProblem(f"Not an image (Content-Type {response.content_type or 'missing'}).")
    return response.content


def store_lead_image(article):
    """Fetch, check, resize and store the article's lead image; returns its status."""
    try:
        thumbnail, lead = resized(decode(fetch_image(article.lead_image_url)))
    except ImageProblem as exc:
        Article.objects.filter(pk=article.pk).update(image_status=str(exc)[:200])
        return str(exc)
    # Named by content: a URL never changes its bytes, so it is cached for a year.
    digest = hashlib.sha256(lead).hexdigest()[:16]
    names = {}
    for kind, data in (("thumb", thumbnail), ("lead", lead)):
        name = f"images/{digest[:2]}/{digest}-{kind}.webp"
        if not default_storage.exists(name):
            content = ContentFile(data)
            # An S3 store otherwise guesses from the name, and Python 3.11's own
            # table (a slim image has no /etc/mime.types) knows no .webp.
            content.content_type = "image/webp"
            name = default_storage.save(name, content)
        names[kind] = name
    Article.objects.filter(pk=article.pk).update(
        image_thumb=names["thumb"], image_lead=names["lead"], image_status="stored"
    )
    return "stored"


def store_pending_images(limit=BATCH):
    """Lead images of up to `limit` shown articles not tried yet, newest first; returns how many."""
    articles = list(
        Article.objects.visible()
        .filter(image_status="")
        .exclude(lead_image_url="")
        .order_by("-published_at")
        .only("pk", "lead_image_url")[:limit]
    )
    for article in articles:
        try:
            store_lead_image(article)
        except Exception:  # one bad image must not stop the batch
            logger.exception("Storing the image of article %s failed", article.pk)
            Article.objects.filter(pk=article.pk).update(image_status="Failed: see the logs.")
    return len(articles)
