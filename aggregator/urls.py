from django.contrib import admin
from django.urls import include, path

from articles.views import healthz

admin.site.site_header = "Lede administration"
admin.site.site_title = "Lede admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("articles.urls")),
]
