from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from articles.sitemaps import sitemaps
from articles.availability import readyz
from articles.views import SignupView, healthz

admin.site.site_header = "Lede administration"
admin.site.site_title = "Lede admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("sitemap.xml", sitemap, {"sitemaps": sitemaps}, name="sitemap"),
    path("accounts/signup/", SignupView.as_view(), name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("articles.urls")),
]

# An outage (the database gone) answers 503 with Retry-After, not 500.
handler500 = "articles.availability.server_error"
