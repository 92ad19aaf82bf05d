import io
import mimetypes
import re

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from PIL import Image

from articles.images import LEAD_WIDTH, THUMBNAIL, store_lead_image, store_pending_images
from articles.models import Article
from articles.tasks import store_lead_images_task
from tests.factories import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def picture(size=(2000, 1500), kind="JPEG", mode="RGB"):
    buffer = io.BytesIO()
    Image.new(mode, size, "teal" if mode == "RGB" else 1).save(buffer, kind)
    return buffer.getvalue()


def article_with_image(local_server, path, body, content_type):
    url = local_server.add(path, body, content_type=content_type)
    return make_article(lead_image_url=url)


def test_a_lead_image_is_fetched_checked_resized_and_stored_once(local_server, media_root):
    article = article_with_image(local_server, "/lead.jpg", picture(), "image/jpeg")
    assert store_lead_images_task() == "1 images tried"
    article.refresh_from_db()
    assert article.image_status == "stored"
    with default_storage.open(article.image_thumb.name) as stored:
        thumb = Image.open(stored)
        assert (thumb.format, thumb.size) == ("WEBP", THUMBNAIL)
    with default_storage.open(article.image_lead.name) as stored:
        lead = Image.open(stored)
        assert (lead.format, lead.size) == ("WEBP", (LEAD_WIDTH, 900))
    assert str(media_root) in default_storage.path(article.image_lead.name)
    assert store_pending_images() == 0, "tried once"


@pytest.mark.parametrize(
    "body, content_type, reason",
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml", "Not an image"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "image/png", "Not a JPEG, PNG, GIF or WebP"),
        (b"GIF89a but not really an image", "image/gif", "Not a JPEG, PNG, GIF or WebP"),
        (b"<html>a page</html>", "text/html", "Not an image"),
    ],
)
def test_anything_but_a_real_raster_image_is_refused(local_server, body, content_type, reason):
    article = article_with_image(local_server, "/image", body, content_type)
    assert reason in store_lead_image(article)
    article.refresh_from_db()
    assert reason in article.image_status and not article.image_thumb


def test_a_decompression_bomb_is_refused_before_decoding(local_server):
    bomb = picture(size=(12_000, 12_000), kind="PNG", mode="1")  # 144 Mpx in a few kB
    assert len(bomb) < 100_000
    article = article_with_image(local_server, "/bomb.png", bomb, "image/png")
    assert "Too many pixels" in store_lead_image(article)


def test_the_guarded_client_s_limits_hold_for_images(local_server, settings):
    settings.IMAGE_MAX_BYTES = 10_000
    big = article_with_image(local_server, "/big.jpg", picture(size=(1200, 1200)) + b"\0" * 20_000, "image/jpeg")
    assert "Image fetch failed" in store_lead_image(big)
    private = make_article(lead_image_url="http://10.0.0.7/lead.jpg")
    assert "Image fetch failed" in store_lead_image(private)


def test_stored_images_are_served_from_our_origin_with_far_future_caching(local_server, client):
    article = article_with_image(local_server, "/lead.png", picture(kind="PNG"), "image/png")
    store_lead_image(article)
    article.refresh_from_db()
    response = client.get(article.image_thumb.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert "max-age=31536000" in response["Cache-Control"] and "immutable" in response["Cache-Control"]
    html = client.get(article.get_absolute_url()).content.decode()
    assert article.image_lead.url in html
    assert f"127.0.0.1:{local_server.port}" not in html.split("<body")[1], "no publisher URL in the page"
    assert "img-src 'self' data:" in client.get("/").headers["Content-Security-Policy"]


def test_pages_without_a_stored_image_show_none_of_the_publisher_s(client):
    article = make_article(lead_image_url="https://images.publisher.example/lead.jpg")
    html = client.get(article.get_absolute_url()).content.decode()
    assert "images.publisher.example" not in html
    assert "images.publisher.example" not in client.get("/").content.decode()
    assert Article.objects.get(pk=article.pk).image_status == ""


def test_an_editor_s_new_image_address_is_fetched_anew(admin_client):
    from django.urls import reverse

    article = make_article(
        lead_image_url="https://images.publisher.example/old.jpg",
        image_thumb="images/ab/old-thumb.webp", image_lead="images/ab/old-lead.webp", image_status="stored",
    )
    response = admin_client.post(
        reverse("admin:articles_article_change", args=[article.pk]),
        {
            "title": article.title, "author": "", "published_at_0": article.published_at.strftime("%Y-%m-%d"),
            "published_at_1": article.published_at.strftime("%H:%M:%S"),
            "lead_image_url": "https://images.publisher.example/new.jpg", "summary": "", "body_html": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    article.refresh_from_db()
    assert (article.image_status, article.image_thumb.name, article.image_lead.name) == ("", "", "")


# An S3-compatible store (conftest.py's s3_store: moto's server on 127.0.0.1),
# named by the settings a self-hoster sets, read from the environment.


def image_sources(html):
    return re.findall(r'<img[^>]*\ssrc="([^"]*)"', html)


def img_src(response):
    directives = dict(
        directive.strip().split(" ", 1) for directive in response["Content-Security-Policy"].split(";")
    )
    return directives["img-src"]


def test_images_land_in_an_s3_store_and_pages_name_the_store_s_urls(
    s3_store, settings, monkeypatch, local_server, client
):
    s3_store.configure(MEDIA_S3_ENDPOINT=s3_store.endpoint)
    # A slim container has no /etc/mime.types, and Python 3.11 alone knows no .webp.
    mimetypes.init()
    monkeypatch.delitem(mimetypes.types_map, ".webp", raising=False)
    assert mimetypes.guess_type("lead.webp") == (None, None)
    article = article_with_image(local_server, "/lead.jpg", picture(), "image/jpeg")
    assert store_lead_images_task() == "1 images tried"
    article.refresh_from_db()
    assert article.image_status == "stored"

    store_url = f"{s3_store.endpoint}/{s3_store.bucket}/"
    expected = {"thumb": THUMBNAIL, "lead": (LEAD_WIDTH, 900)}
    for kind, field in (("thumb", article.image_thumb), ("lead", article.image_lead)):
        assert field.name.endswith(f"-{kind}.webp")
        stored = s3_store.client.head_object(Bucket=s3_store.bucket, Key=field.name)
        assert stored["ContentType"] == "image/webp"
        assert stored["CacheControl"] == "public, max-age=31536000, immutable"
        assert field.url == store_url + field.name
        # What a reader's browser gets: the page's URL, unsigned, from the store.
        response = requests.get(field.url, timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/webp"
        assert "max-age=31536000" in response.headers["Cache-Control"]
        with Image.open(io.BytesIO(response.content)) as image:
            assert (image.format, image.size) == ("WEBP", expected[kind])
    assert not (settings.MEDIA_ROOT / article.image_lead.name).exists(), "nothing on local disk"

    page = client.get(article.get_absolute_url())
    sources = image_sources(page.content.decode())
    assert article.image_lead.url in sources
    assert f'<meta property="og:image" content="{article.image_lead.url}">' in page.content.decode()
    assert all(source.startswith(("/", store_url)) for source in sources), sources
    home = client.get("/")
    assert {article.image_lead.url, article.image_thumb.url} & set(image_sources(home.content.decode()))
    for response in (page, home):
        assert img_src(response) == f"'self' data: {s3_store.endpoint}", "the store's origin, and no other"


@pytest.mark.parametrize(
    "domain, origin",
    [
        ("media.news.example", "https://media.news.example"),  # a CDN in front of the bucket
        ("news.example.org/media", "https://news.example.org"),  # a path of the site, proxied to the bucket
    ],
)
def test_with_a_media_domain_pages_name_it_and_the_csp_allows_exactly_its_origin(
    s3_store, local_server, client, domain, origin
):
    s3_store.configure(MEDIA_S3_ENDPOINT=s3_store.endpoint, MEDIA_S3_DOMAIN=domain)
    article = article_with_image(local_server, "/lead.png", picture(kind="PNG"), "image/png")
    assert store_lead_image(article) == "stored"
    article.refresh_from_db()
    s3_store.client.head_object(Bucket=s3_store.bucket, Key=article.image_lead.name)
    assert article.image_lead.url == f"https://{domain}/{article.image_lead.name}"
    page = client.get(article.get_absolute_url())
    assert article.image_lead.url in image_sources(page.content.decode())
    assert img_src(page) == f"'self' data: {origin}"


def test_a_bucket_without_an_endpoint_or_a_domain_is_refused_at_startup(settings_from_environment):
    with pytest.raises(ImproperlyConfigured, match="MEDIA_S3_ENDPOINT"):
        settings_from_environment(MEDIA_S3_BUCKET="lede-media")


def test_without_a_bucket_images_come_from_our_origin_only(settings_from_environment, settings, monkeypatch):
    monkeypatch.delenv("MEDIA_S3_BUCKET", raising=False)
    settings_from_environment()
    assert settings.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] == ["'self'", "data:"]
