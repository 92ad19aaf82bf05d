import functools

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse, reverse_lazy
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic import DetailView, FormView, ListView
from django.views.static import serve as static_serve

from . import frontpage, menus, reader, websub
from .article_page import page_article
from .forms import CommentForm, SignupForm
from .models import Article, Category, Comment, Source, Story, Tag
from .related.topics import related_coverage
from .terms import cut, effective_policy, shown_key_points
from .search import PAGE, PERIODS, highlighted, mark_words, search_articles
from .tasks import enqueue_extraction

PAGE_SIZE = 24
# Lists go this far back; older articles are found by search. Counting the
# whole archive for "page N of M" would make every list page's cost grow
# with the archive.
MAX_LISTED = 100 * PAGE_SIZE


class CappedPaginator(Paginator):
    @cached_property
    def count(self):
        return self.object_list[:MAX_LISTED].count()


class SavedFlagsMixin:
    """Marks which listed articles the reader saved: one query per page."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["saved_ids"] = reader.saved_ids(self.request.user, context["object_list"])
        return context


class ArticleListView(SavedFlagsMixin, ListView):
    paginate_by = PAGE_SIZE
    paginator_class = CappedPaginator

    def get_queryset(self):
        return Article.objects.for_list().select_related("story")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        frontpage.attach_story_sources(context["object_list"])
        return context


class HomeView(ArticleListView):
    template_name = "articles/article_list.html"

    def get_queryset(self):
        # The top stories lead page one; the latest list leaves them out, on
        # every page alike so that pages do not shift.
        self.top_stories = frontpage.top_stories()
        return (
            super().get_queryset().one_per_story()
            .exclude(pk__in=[article.pk for article in self.top_stories])
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if context["page_obj"].number == 1:
            # Pinned by editors; a separate small query keeps the main list on
            # its (published_at, id) index.
            featured = list(
                super().get_queryset().one_per_story().filter(is_featured=True)[:3]
            )
            top = self.top_stories
            shown = {article.pk for article in featured + top}
            sections = frontpage.category_sections(exclude_ids=shown)
            frontpage.attach_story_sources(
                featured + top + [a for _, articles in sections for a in articles]
            )
            context.update(featured=featured, top_stories=top, sections=sections)
            context["saved_ids"] = context["saved_ids"] | reader.saved_ids(
                self.request.user, featured + top + [a for _, articles in sections for a in articles]
            )
        if not context["object_list"] and self.request.user.is_staff:
            context["fetch_health"] = fetch_health()
        return context


def fetch_health():
    """For an empty homepage seen by staff: how many sources have failed, and why."""
    sources = Source.objects.filter(is_active=True)
    failing = sources.failing()
    reasons = (
        failing.exclude(last_error="").values("last_error")
        .annotate(count=Count("id")).order_by("-count", "last_error")[:3]
    )
    return {
        "total": sources.count(),
        "failing": failing.count(),
        "fetched": sources.filter(last_fetched_at__isnull=False).count(),
        "reasons": list(reasons),
    }


class ObjectArticleListView(ArticleListView):
    """The articles of one source, category or tag, found by its slug."""

    model = None  # of the object; its name is the template's and the context's

    def get_queryset(self):
        self.object = get_object_or_404(self.get_object_queryset(), slug=self.kwargs["slug"])
        return self.articles_of(super().get_queryset(), self.object)

    def get_object_queryset(self):
        return self.model.objects.all()

    def get_template_names(self):
        return [f"articles/{self.model._meta.model_name}_detail.html"]

    def get_context_data(self, **kwargs):
        return super().get_context_data(**{self.model._meta.model_name: self.object}, **kwargs)


class SourceArticleListView(ObjectArticleListView):
    model = Source

    def get_object_queryset(self):
        return Source.objects.select_related("category")

    def articles_of(self, articles, source):
        return articles.for_source(source)


class CategoryArticleListView(ObjectArticleListView):
    model = Category

    def articles_of(self, articles, category):
        return articles.originals().for_category(category)


class TagArticleListView(ObjectArticleListView):
    model = Tag

    def articles_of(self, articles, tag):
        return articles.originals().filter(tags=tag)


class SavedArticleListView(LoginRequiredMixin, ArticleListView):
    template_name = "articles/saved_list.html"

    def get_queryset(self):
        return (
            super().get_queryset()
            .filter(pk__in=self.request.user.saved.values("article"))
            .order_by("-published_at", "-id")
        )


class SearchView(SavedFlagsMixin, ListView):
    template_name = "articles/search.html"
    paginate_by = PAGE  # a search ranks a page at least

    def get_queryset(self):
        self.query = self.request.GET.get("q", "")
        before = self.request.GET.get("before", "")
        # An article's id, as the "older matches" link writes it; anything else is ignored.
        self.before = int(before) if before.isascii() and before.isdecimal() and len(before) < 19 else None
        results = search_articles(
            self.query,
            source=self.request.GET.get("source"),
            category=self.request.GET.get("category"),
            period=self.request.GET.get("period"),
            before=self.before,
        )
        self.unusable = results is None
        return Article.objects.none() if results is None else results

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for article in context["object_list"]:
            # Full-text engines mark their own hits; the LIKE fallback marks words.
            article.snippet_html = (
                highlighted(article.snippet)
                if hasattr(article, "snippet")
                else mark_words(article.summary, self.query)
            )
            policy = effective_policy(article)
            if not policy.shows_text:
                article.snippet_html = ""
            elif policy.limit is not None:
                # Cut as HTML, so the <mark>s stay whole: still safe to show.
                article.snippet_html = mark_safe(
                    Truncator(article.snippet_html).chars(policy.limit, html=True)
                )
        context.update(
            query=self.query,
            # Looked up once: request.GET.source in the template missed its key
            # (and raised) once for every source of the list.
            chosen={name: self.request.GET.get(name, "") for name in ("source", "category", "period")},
            unusable=self.unusable and bool(self.query.strip()),
            # Only the recent matches are ranked: the page says how far back
            # they go, and the older ones are a link away.
            older=getattr(self.object_list, "older", None),
            reaches=getattr(self.object_list, "reaches", None),
            searching_older=self.before is not None,
            periods=PERIODS,
        )
        return context


class ArticleDetailView(DetailView):
    model = Article

    def get_object(self, queryset=None):
        return page_article(self.kwargs["slug"])

    def get_context_data(self, **kwargs):
        article = self.object
        same_story, more_on_topic = related_coverage(article, [tag.pk for tag in article.tag_list])
        policy = effective_policy(article)
        return super().get_context_data(
            policy=policy,
            key_points=shown_key_points(article, policy),
            same_story=same_story,
            more_on_topic=more_on_topic,
            comment_form=CommentForm(),
            is_saved=bool(reader.saved_ids(self.request.user, [article])),
            **kwargs,
        )


class StoryDetailView(DetailView):
    # The lead gives the page its title only.
    queryset = Story.objects.select_related("lead_article").only(
        "article_count", "source_count", "first_published_at", "updated_at", "additions",
        "lead_article", "lead_article__title", "lead_article__slug",
    )

    def get_context_data(self, **kwargs):
        coverage = list(
            Article.objects.for_list().filter(story=self.object).order_by("published_at", "id")
        )
        policies = {article.pk: effective_policy(article) for article in coverage}
        additions = self.object.additions or {}
        # Each source's sentences as its publisher's terms allow.
        source_additions = [
            {**entry, "sentences": [cut(s, policies[entry["article"]].limit) for s in entry["sentences"]]}
            for entry in additions.get("sources", [])
            if entry["article"] in policies and policies[entry["article"]].shows_text
        ]
        timeline = [
            {**entry, "published_at": parse_datetime(entry["published_at"])}
            for entry in additions.get("timeline", [])
        ]
        return super().get_context_data(
            coverage=coverage,
            source_additions=source_additions,
            timeline=timeline if len(timeline) > 1 else [],
            **kwargs,
        )


class SignupView(FormView):
    template_name = "registration/signup.html"
    form_class = SignupForm
    success_url = reverse_lazy("articles:list")

    def form_valid(self, form):
        user = form.save()
        login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        return super().form_valid(form)


def client_ip(request):
    # Behind a proxy, configure it to set REMOTE_ADDR (e.g. gunicorn's
    # --forwarded-allow-ips); X-Forwarded-For alone is the client's word.
    return request.META.get("REMOTE_ADDR", "")


# Comment outcomes show beside the comments, where the redirect lands.
COMMENTS = "comments"


@login_required
@require_POST
def post_comment(request, slug):
    article = get_object_or_404(Article.objects.visible(), slug=slug)
    form = CommentForm(request.POST)
    target = article.get_absolute_url() + "#comments"
    if form.is_bot:
        return redirect(target)  # say nothing useful to a bot
    if not form.is_valid():
        for error in form.errors.get("body", []):
            messages.error(request, error, extra_tags=COMMENTS)
        return redirect(target)
    try:
        reader.post_comment(request.user, article, form.cleaned_data["body"], client_ip(request))
    except reader.RateLimited as exc:
        messages.error(request, str(exc), extra_tags=COMMENTS)
        return redirect(target)
    messages.success(request, "Your comment is posted.", extra_tags=COMMENTS)
    return redirect(target)


@login_required
@require_http_methods(["GET", "POST"])
def delete_comment(request, pk):
    """GET asks to confirm; POST deletes."""
    comment = get_object_or_404(Comment.objects.select_related("article"), pk=pk)
    target = comment.article.get_absolute_url() + "#comments"
    if request.method == "GET":
        if comment.user_id != request.user.pk:
            return redirect(target)
        return render(request, "articles/comment_confirm_delete.html", {"comment": comment})
    if reader.delete_comment(request.user, comment):
        messages.success(request, "Your comment is deleted.", extra_tags=COMMENTS)
    else:
        messages.error(request, "You can only delete your own comments.", extra_tags=COMMENTS)
    return redirect(target)


@login_required
@require_POST
def toggle_saved(request, slug):
    article = get_object_or_404(Article.objects.visible(), slug=slug)
    save = request.POST.get("action") != "unsave"
    reader.set_saved(request.user, article, save)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = article.get_absolute_url()
    # Not redirect(): it would take "-1" for a view name and fail to reverse it.
    return HttpResponseRedirect(next_url)


def manifest(request):
    data = {
        "name": settings.SITE_NAME,
        "short_name": settings.SITE_NAME,
        "description": "News from many sources, with full coverage and links to the originals.",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#fbfaf8",
        "theme_color": "#b3261e",
        "icons": [
            {"src": static("img/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("img/icon-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "any maskable"},
            {"src": static("img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json")


@functools.cache
def service_worker_source():
    return (settings.BASE_DIR / "static" / "js" / "sw.js").read_text()


def service_worker(request):
    # Served from the root so that its scope is the whole site.
    response = HttpResponse(service_worker_source(), content_type="application/javascript")
    response["Cache-Control"] = "no-cache"
    return response


def offline(request):
    return render(request, "offline.html")


def feed_list(request):
    """Where the footer's feed link leads: what a feed is and how to subscribe,
    readable in every browser (the feeds' XSL needs XSLT, which Chromium is
    removing)."""
    return render(request, "articles/feed_list.html", {
        "categories": menus.nav_categories(),
    })


def favicon(request):
    # Not permanent: the static name changes with the file's hash.
    return redirect(static("img/favicon.svg"))


def robots_txt(request):
    sitemap = request.build_absolute_uri(reverse("sitemap"))
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /accounts/", f"Sitemap: {sitemap}"]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


def media(request, path):
    """A stored image (local disk): named by its content, so cached for a year."""
    response = static_serve(request, path, document_root=settings.MEDIA_ROOT)
    if path.endswith(".webp"):
        response["Content-Type"] = "image/webp"
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def websub_callback(request, token):
    """A WebSub hub's verification (GET) or push (POST) for one subscription."""
    if request.method == "GET":
        status, body = websub.answer_challenge(token, request.GET)
        return HttpResponse(body, status=status, content_type="text/plain")
    limit = settings.FETCH_MAX_BYTES
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        return HttpResponse("Too large.", status=413, content_type="text/plain")
    # Read from the stream: request.body would stop at DATA_UPLOAD_MAX_MEMORY_SIZE.
    body = request.read(limit + 1)
    if len(body) > limit:
        return HttpResponse("Too large.", status=413, content_type="text/plain")
    status, new_ids = websub.receive_push(token, body, request.headers.get("X-Hub-Signature"))
    if new_ids:
        enqueue_extraction(new_ids)
    return HttpResponse(status=status)
