from django.urls import path

from . import views

app_name = "articles"
urlpatterns = [
    path("", views.ArticleListView.as_view(), name="list"),
    path("articles/<slug:slug>/", views.ArticleDetailView.as_view(), name="detail"),
    path("sources/<slug:slug>/", views.SourceArticleListView.as_view(), name="source"),
    path("categories/<slug:slug>/", views.CategoryArticleListView.as_view(), name="category"),
    path("stories/<int:pk>/", views.StoryDetailView.as_view(), name="story"),
]
