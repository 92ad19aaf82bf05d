import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator
from django_q.tasks import async_task

from . import moderation, page_cache, websub
from .extract import extract_page
from .fetch import HTML_ACCEPT, FetchError, fetch
from .forms import SourceForm
from .models import (
    Article, Category, Comment, FetchLog, RelatedLink, SavedArticle, Source, SourceImport,
    Story, Tag,
)
from .terms import effective_policy
from .opml import OPMLError, export_opml, parse_opml
from .sources import create_source, pause_sources, resume_sources


class ModelAdmin(admin.ModelAdmin):
    def changelist_view(self, request, extra_context=None):
        # Django turns a bad date_hierarchy value into "?e=1", except one too
        # large for datetime(): an OverflowError, a 500.
        if self.date_hierarchy:
            for part in ("year", "month", "day"):
                try:
                    number = int(request.GET.get(f"{self.date_hierarchy}__{part}", "0"))
                except ValueError:
                    continue
                if abs(number) > 9999:
                    return HttpResponseBadRequest("Not a date.")
        return super().changelist_view(request, extra_context)

    def response_action(self, request, queryset):
        # Django filters on the posted ids as they come: "1e309" fails as a
        # ValueError, a 500, instead of a bad request.
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                self.model._meta.pk.to_python(value)
        except ValidationError:
            return HttpResponseBadRequest("The selected ids are not ids.")
        return super().response_action(request, queryset)


@admin.register(Category)
class CategoryAdmin(ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


def truncated(text):
    """One line cut by CSS to its column (admin.css), the whole text on hover."""
    return format_html('<span class="truncated" title="{}">{}</span>', text, text) if text else ""


def short_date(moment):
    """Day and time; the year only when it is not this one."""
    if moment is None:
        return "-"
    moment = timezone.localtime(moment)
    return date_format(moment, "j M H:i" if moment.year == timezone.localtime().year else "j M Y")


class LanguageFilter(admin.SimpleListFilter):
    """The languages in use; sources without one are named, not an empty link."""

    title = "language"
    parameter_name = "language"

    def lookups(self, request, model_admin):
        codes = model_admin.get_queryset(request).order_by("language").values_list(
            "language", flat=True
        ).distinct()
        return [(code or "none", code or "Not set") for code in codes]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(language="" if self.value() == "none" else self.value())
        return queryset


class FailingFilter(admin.SimpleListFilter):
    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [("failing", "Failing"), ("healthy", "Healthy"), ("never", "Never fetched")]

    def queryset(self, request, queryset):
        if self.value() == "failing":
            return queryset.failing()
        if self.value() == "healthy":
            return queryset.filter(consecutive_failures=0, last_fetched_at__isnull=False)
        if self.value() == "never":
            return queryset.filter(last_fetched_at__isnull=True)
        return queryset


@admin.action(description="Fetch selected sources now")
def fetch_now(modeladmin, request, queryset):
    queryset.update(next_fetch_at=timezone.now())
    for source in queryset:
        async_task("articles.tasks.fetch_source_task", source.pk, group="fetch")
    messages.info(request, f"Queued a fetch of {queryset.count()} source(s).")


@admin.action(description="Pause selected sources")
def pause(modeladmin, request, queryset):
    messages.info(request, f"Paused {pause_sources(queryset)} source(s).")


@admin.action(description="Resume selected sources")
def resume(modeladmin, request, queryset):
    messages.info(request, f"Resumed {resume_sources(queryset)} source(s); they are due now.")


def opml_download(sources):
    response = HttpResponse(
        export_opml(sources.select_related("category")), content_type="text/x-opml"
    )
    response["Content-Disposition"] = 'attachment; filename="sources.opml"'
    return response


@admin.action(description="Export selected sources as OPML")
def export_selected_opml(modeladmin, request, queryset):
    return opml_download(queryset)


class OPMLUploadForm(forms.Form):
    file = forms.FileField(help_text="An OPML file exported from a feed reader.")
    update = forms.BooleanField(
        required=False, help_text="Also refresh names and categories of feeds already here."
    )


class PreviewForm(forms.Form):
    url = forms.URLField(label="Page URL", assume_scheme="https")


class LabelledDateTimeMixin:
    """Django's date and time boxes say "Date:" and "Time:" in plain text, not
    as labels: each box gets its field's name, for screen readers (axe-core)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if isinstance(db_field, models.DateTimeField) and field is not None:
            for widget, part in zip(field.widget.widgets, ("date", "time")):
                widget.attrs["aria-label"] = f"{db_field.verbose_name.capitalize()}: {part}"
        return field


class CountedDeletionMixin:
    """The delete confirmation counts what readers lose (articles, comments,
    saved copies) instead of listing every row that goes with it: a source's
    term postings and links run to hundreds of thousands of internal rows.
    Each admin using it names, as `articles_lookup`, the Article lookup that
    finds the articles deleting its objects removes."""

    def get_deleted_objects(self, objs, request):
        objects = list(objs)
        articles = Article.objects.filter(**{self.articles_lookup: [obj.pk for obj in objects]})
        opts = self.model._meta
        counts = {
            opts.verbose_name_plural if len(objects) != 1 else opts.verbose_name: len(objects),
            "articles": articles.count(),
            "comments": Comment.objects.filter(article__in=articles).count(),
            "saved copies": SavedArticle.objects.filter(article__in=articles).count(),
        }
        if self.model is Article:
            del counts["articles"]
        # The permissions Django's full walk would ask for: the registered
        # models a deletion removes rows of.
        perms_needed = {
            model._meta.verbose_name
            for model in {self.model, Article, Comment}
            if self.admin_site.is_registered(model)
            and not request.user.has_perm(
                f"{model._meta.app_label}.delete_{model._meta.model_name}"
            )
        }
        named = [f"{opts.verbose_name.capitalize()}: {obj}" for obj in objects[:50]]
        if len(objects) > 50:
            named.append(f"… and {len(objects) - 50} more")
        return named, counts, perms_needed, []


@admin.register(Source)
class SourceAdmin(CountedDeletionMixin, ModelAdmin):
    articles_lookup = "source__in"
    # What an editor scans, in 1366 px: health holds paused and the failure
    # count; status, next fetch, history and display policy are on the change page.
    list_display = ["short_name", "health", "category", "article_count", "fetched", "short_error"]
    list_filter = ["category", "is_active", FailingFilter, LanguageFilter, "display_policy"]
    list_select_related = ["category"]
    search_fields = ["name", "feed_url", "site_url"]
    prepopulated_fields = {"slug": ["name"]}
    actions = [fetch_now, pause, resume, export_selected_opml]
    date_hierarchy = "last_fetched_at"
    ordering = ["-consecutive_failures", "name"]  # failing first
    readonly_fields = [
        "etag",
        "last_modified",
        "last_fetched_at",
        "next_fetch_at",
        "last_status",
        "consecutive_failures",
        "last_error",
        "last_notes",
        "created_at",
        "history",
        "push",
    ]
    form = SourceForm
    fieldsets = [
        (None, {"fields": [
            "name", "slug", "feed_url", "feed_choice", "site_url", "category", "language",
        ]}),
        ("Fetching", {"fields": ["is_active", "use_feed_content", "min_interval", "max_interval"]}),
        ("Shown to readers", {"fields": ["display_policy"]}),
        ("Health (written by the fetcher)", {"fields": readonly_fields}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_article_count=Count("articles"))

    def get_urls(self):
        views = [
            path("import-opml/", self.admin_site.admin_view(self.import_opml_view),
                 name="articles_source_import_opml"),
            path("export-opml/", self.admin_site.admin_view(self.export_opml_view),
                 name="articles_source_export_opml"),
            path("preview/", self.admin_site.admin_view(self.preview_view),
                 name="articles_source_preview"),
            path("<int:pk>/fetches/", self.admin_site.admin_view(self.fetches_view),
                 name="articles_source_fetches"),
            path("imports/<int:pk>/", self.admin_site.admin_view(self.import_status_view),
                 name="articles_source_import_status"),
        ]
        return views + super().get_urls()

    def import_opml_view(self, request):
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = OPMLUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > 2 * 1024 * 1024:
                    raise OPMLError("The file is larger than 2 MB.")
                content = upload.read()
                outlines = parse_opml(content)
            except OPMLError as exc:
                form.add_error("file", str(exc))
            else:
                # Read here for a prompt form error; imported in the background,
                # since 10,000 outlines outlast a request.
                source_import = SourceImport.objects.create(
                    file_name=upload.name[:255], content=content, outlines=len(outlines),
                    update_existing=form.cleaned_data["update"], created_by=request.user,
                )
                async_task("articles.tasks.import_sources_task", source_import.pk, group="import")
                return redirect("admin:articles_source_import_status", source_import.pk)
        context = {**self.admin_site.each_context(request), "form": form,
                   "title": "Import sources from OPML", "opts": self.model._meta}
        return TemplateResponse(request, "admin/articles/source/import_opml.html", context)

    def import_status_view(self, request, pk):
        source_import = get_object_or_404(SourceImport, pk=pk)
        context = {**self.admin_site.each_context(request), "source_import": source_import,
                   "title": f"Importing {source_import.file_name or 'OPML'}",
                   "opts": self.model._meta}
        return TemplateResponse(request, "admin/articles/source/import_status.html", context)

    def export_opml_view(self, request):
        """Every source, for the button beside Import OPML."""
        if not self.has_view_permission(request):
            return redirect("admin:index")
        return opml_download(Source.objects.order_by("name"))

    def preview_view(self, request):
        """What the extractor gets from a page, before a source is added."""
        initial = {}
        if "article" in request.GET:
            # str.isdigit() takes "²", which int() refuses.
            article_id = request.GET["article"]
            if not re.fullmatch(r"[0-9]{1,18}", article_id):
                raise Http404("No such article.")
            initial["url"] = get_object_or_404(Article, pk=int(article_id)).url
        form = PreviewForm(request.POST or None, initial=initial)
        extraction, error = None, ""
        if request.method == "POST" and form.is_valid():
            try:
                response = fetch(form.cleaned_data["url"], accept=HTML_ACCEPT, require_html=True)
                extraction = extract_page(
                    response.content, response.url, charset=response.charset
                )
            except FetchError as exc:
                error = exc.reason
        context = {**self.admin_site.each_context(request), "form": form,
                   "extraction": extraction, "error": error,
                   "title": "Preview extraction", "opts": self.model._meta}
        return TemplateResponse(request, "admin/articles/source/preview.html", context)

    def fetches_view(self, request, pk):
        source = get_object_or_404(Source, pk=pk)
        context = {**self.admin_site.each_context(request), "source": source,
                   "logs": FetchLog.objects.filter(source=source)[:100],
                   "title": f"Recent fetches of {source.name}", "opts": self.model._meta}
        return TemplateResponse(request, "admin/articles/source/fetches.html", context)

    @admin.display(description="History")
    def history(self, obj):
        if obj.pk is None:
            return ""
        return format_html(
            '<a href="{}">fetches</a>', reverse("admin:articles_source_fetches", args=[obj.pk])
        )

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            moderation.source_edited(obj)
        else:
            create_source(obj)

    @admin.display(description="Articles", ordering="_article_count")
    def article_count(self, obj):
        return obj._article_count

    @admin.display(description="Last fetched", ordering="last_fetched_at")
    def fetched(self, obj):
        return short_date(obj.last_fetched_at)

    @admin.display(description="Name", ordering="name")
    def short_name(self, obj):
        return truncated(obj.name)

    @admin.display(description="Last error")
    def short_error(self, obj):
        return truncated(obj.last_error)

    @admin.display(description="Push (WebSub)")
    def push(self, obj):
        subscription = getattr(obj, "subscription", None)
        state = websub.push_state(subscription)
        if subscription is None:
            return state
        detail = f" · {subscription.pushes} pushes" if subscription.pushes else ""
        error = f" · {Truncator(subscription.last_error).chars(80)}" if subscription.last_error else ""
        return f"{state} via {subscription.hub_url}{detail}{error}"

    @admin.display(description="Health", ordering="consecutive_failures")
    def health(self, obj):
        if not obj.is_active:
            label, css = "Paused", "paused"
        elif obj.last_fetched_at is None:
            label, css = "New", "new"
        elif obj.consecutive_failures:
            label, css = f"Failing ×{obj.consecutive_failures}", "failing"
        else:
            label, css = "OK", "ok"
        return format_html('<span class="health health-{}">{}</span>', css, label)


@admin.action(description="Re-extract selected articles")
def re_extract(modeladmin, request, queryset):
    for article_id in queryset.values_list("pk", flat=True):
        async_task("articles.tasks.extract_article_task", article_id, force=True, group="extract")
    messages.info(
        request,
        f"Queued re-extraction of {queryset.count()} article(s); a page unchanged since "
        "its last extraction (same bytes, same extractor) keeps what is stored.",
    )


@admin.action(description="Preview the extraction of the selected article")
def preview_extraction(modeladmin, request, queryset):
    article = queryset.first()
    return redirect(reverse("admin:articles_source_preview") + f"?article={article.pk}")


@admin.action(description="Hide selected articles from the site")
def hide(modeladmin, request, queryset):
    messages.info(request, f"Hid {moderation.set_articles_hidden(queryset, True)} article(s).")


@admin.action(description="Show selected articles on the site")
def unhide(modeladmin, request, queryset):
    messages.info(request, f"Showed {moderation.set_articles_hidden(queryset, False)} article(s).")


@admin.action(description="Feature selected articles (pinned on the homepage)")
def feature(modeladmin, request, queryset):
    count = moderation.set_articles_featured(queryset, True)
    messages.info(
        request,
        f"Featured {count} article(s): the site's cached pages are renewed now; a reader's "
        f"browser may keep its copy of the homepage for up to {page_cache.LIFETIME} seconds.",
    )


@admin.action(description="Stop featuring selected articles")
def unfeature(modeladmin, request, queryset):
    count = moderation.set_articles_featured(queryset, False)
    messages.info(
        request,
        f"Unfeatured {count} article(s): a reader's browser may keep its copy of the "
        f"homepage for up to {page_cache.LIFETIME} seconds.",
    )


@admin.register(Article)
class ArticleAdmin(LabelledDateTimeMixin, CountedDeletionMixin, ModelAdmin):
    articles_lookup = "pk__in"
    # What an editor scans, in 1366 px beside the admin's sidebar and filters;
    # comments and word count are on the change page.
    list_display = ["short_title", "short_source", "published", "status", "shown"]
    list_filter = [
        "state", "is_hidden", "is_featured", ("story", admin.EmptyFieldListFilter),
        "source__category", "source",
    ]
    list_select_related = ["source"]
    search_fields = ["title", "url", "author"]
    date_hierarchy = "published_at"
    actions = [re_extract, hide, unhide, feature, unfeature, preview_extraction]
    raw_id_fields = ["story"]
    autocomplete_fields = ["tags"]
    pipeline_fields = [
        "source", "guid", "url", "canonical_url", "slug", "discovered_at", "state",
        "state_reason", "extracted_at", "extraction_attempts", "claimed_until",
        "relating_attempts", "word_count", "language",
    ]
    readonly_fields = [*pipeline_fields, "shown_as"]
    fieldsets = [
        (None, {"fields": [
            "title", "author", "is_hidden", "is_featured", "published_at", "lead_image_url", "tags",
        ]}),
        ("Text", {"fields": ["summary", "body_html"], "classes": ["collapse"]}),
        ("Publisher's terms", {"fields": ["shown_as"]}),
        ("Pipeline (written by the fetcher)", {"fields": pipeline_fields + ["story"]}),
    ]

    @admin.display(description="shown")
    def shown(self, article):
        return effective_policy(article).name

    @admin.display(description="Shown to readers")
    def shown_as(self, article):
        policy = effective_policy(article)
        label = {"full": "Full text", "excerpt": "Excerpt with link", "headline": "Headline with link"}
        limit = f", at most {policy.limit} characters" if policy.limit else ""
        return f"{label[policy.name]}{limit}. Why: {policy.reason}"

    def get_queryset(self, request):
        return super().get_queryset(request).without_heavy_columns(keep=["body_html"])

    class Media:
        js = ["js/admin-labels.js"]

    @admin.display(description="Title", ordering="title")
    def short_title(self, obj):
        return truncated(obj.title)

    @admin.display(description="Source", ordering="source__name")
    def short_source(self, obj):
        return truncated(obj.source.name)

    @admin.display(description="Published", ordering="published_at")
    def published(self, obj):
        return short_date(obj.published_at)

    @admin.display(description="Status", ordering="state")
    def status(self, obj):
        """One word: the state, unless hidden or featured (their filters sit beside)."""
        if obj.is_hidden:
            return "Hidden"
        if obj.is_featured:
            return "Featured"
        return obj.get_state_display() if obj.state != Article.State.PENDING else "Pending"

    def save_model(self, request, obj, form, change):
        if "lead_image_url" in form.changed_data:
            # Another image: the image task fetches and stores it anew.
            obj.image_thumb = obj.image_lead = obj.image_status = ""
        super().save_model(request, obj, form, change)
        moderation.article_edited(obj)


@admin.register(Tag)
class TagAdmin(ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]


@admin.register(Story)
class StoryAdmin(ModelAdmin):
    list_display = ["__str__", "lead_article", "source_count", "article_count", "updated_at"]
    list_select_related = ["lead_article"]
    # Chosen by refresh_stories (the fullest original text), which
    # also marks it on the article; an edit here would be undone by the next one.
    readonly_fields = ["lead_article"]
    date_hierarchy = "updated_at"


@admin.register(RelatedLink)
class RelatedLinkAdmin(ModelAdmin):
    list_display = ["from_article", "to_article", "score"]
    list_select_related = ["from_article", "to_article"]
    raw_id_fields = ["from_article", "to_article"]


@admin.action(description="Hide selected comments")
def hide_comments(modeladmin, request, queryset):
    messages.info(request, f"Hid {moderation.set_comments_public(queryset, False)} comment(s).")


@admin.action(description="Show selected comments")
def show_comments(modeladmin, request, queryset):
    messages.info(request, f"Showed {moderation.set_comments_public(queryset, True)} comment(s).")


@admin.register(Comment)
class CommentAdmin(LabelledDateTimeMixin, ModelAdmin):
    list_display = ["short_body", "article", "user", "created_at", "is_public"]
    list_filter = [
        "is_public",
        ("user", admin.RelatedOnlyFieldListFilter),
        ("article", admin.RelatedOnlyFieldListFilter),
    ]
    date_hierarchy = "created_at"
    list_select_related = ["user", "article"]
    search_fields = ["body", "user__username", "article__title"]
    raw_id_fields = ["article", "user"]
    actions = [hide_comments, show_comments]

    @admin.display(description="Comment")
    def short_body(self, obj):
        return Truncator(obj.body).chars(80)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        moderation.comment_edited(obj)


@admin.register(SourceImport)
class SourceImportAdmin(ModelAdmin):
    list_display = ["__str__", "status", "outlines", "handled", "created", "skipped", "created_at",
                    "progress"]
    list_filter = ["status"]
    date_hierarchy = "created_at"
    exclude = ["content"]

    def has_add_permission(self, request):
        return False  # through "Import OPML" on the sources page

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Progress")
    def progress(self, obj):
        return format_html(
            '<a href="{}">{}%</a>',
            reverse("admin:articles_source_import_status", args=[obj.pk]), obj.percent,
        )
