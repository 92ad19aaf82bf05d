import io

import pytest
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
