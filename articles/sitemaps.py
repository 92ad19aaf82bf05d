from django.contrib.sitemaps import Sitemap

from .models import Article, Category, Source


class ArticleSitemap(Sitemap):
    changefreq = "never"
    limit = 10000

    def items(self):
        return Article.objects.visible().only("slug", "published_at", "extracted_at").order_by(
            "-published_at", "-id"
        )

    def lastmod(self, item):
        return item.extracted_at or item.published_at


class SourceSitemap(Sitemap):
    changefreq = "hourly"

    def items(self):
        return Source.objects.filter(is_active=True).only("slug").order_by("pk")


class CategorySitemap(Sitemap):
    changefreq = "hourly"

    def items(self):
        return Category.objects.order_by("pk")


sitemaps = {"articles": ArticleSitemap, "sources": SourceSitemap, "categories": CategorySitemap}
