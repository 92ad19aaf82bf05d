from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.generic import DetailView, ListView

from .models import Article, Category, RelatedLink, Source, Story

PAGE_SIZE = 24


class ArticleListView(ListView):
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        return Article.objects.for_list().select_related("story")


class SourceArticleListView(ArticleListView):
    template_name = "articles/source_detail.html"

    def get_queryset(self):
        self.source = get_object_or_404(Source.objects.select_related("category"), slug=self.kwargs["slug"])
        return super().get_queryset().for_source(self.source)

    def get_context_data(self, **kwargs):
        return super().get_context_data(source=self.source, **kwargs)


class CategoryArticleListView(ArticleListView):
    template_name = "articles/category_detail.html"

    def get_queryset(self):
        self.category = get_object_or_404(Category, slug=self.kwargs["slug"])
        return super().get_queryset().for_category(self.category)

    def get_context_data(self, **kwargs):
        return super().get_context_data(category=self.category, **kwargs)


class ArticleDetailView(DetailView):
    def get_queryset(self):
        related = RelatedLink.objects.select_related("to_article__source").defer(
            "to_article__body_html", "to_article__body_text", "to_article__terms",
            "to_article__feed_content_html",
        ).order_by("-score")
        return (
            Article.objects.visible()
            .select_related("source", "story")
            .prefetch_related(Prefetch("related_links", queryset=related))
        )

    def get_context_data(self, **kwargs):
        article = self.object
        related = [
            link.to_article
            for link in article.related_links.all()
            if link.to_article.state == Article.State.READY and not link.to_article.is_hidden
        ]
        return super().get_context_data(related_articles=related, **kwargs)


class StoryDetailView(DetailView):
    queryset = Story.objects.select_related("lead_article")

    def get_context_data(self, **kwargs):
        coverage = (
            Article.objects.for_list()
            .filter(story=self.object)
            .order_by("published_at", "id")
        )
        return super().get_context_data(coverage=coverage, **kwargs)


def robots_txt(request):
    sitemap = request.build_absolute_uri(reverse("sitemap"))
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /accounts/", f"Sitemap: {sitemap}"]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
