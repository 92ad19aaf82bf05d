from django.urls import path

from . import feeds, views

app_name = "articles"
urlpatterns = [
    path("", views.HomeView.as_view(), name="list"),
    path("articles/<slug:slug>/", views.ArticleDetailView.as_view(), name="detail"),
    path("sources/<slug:slug>/", views.SourceArticleListView.as_view(), name="source"),
    path("categories/<slug:slug>/", views.CategoryArticleListView.as_view(), name="category"),
    path("articles/<slug:slug>/comments/", views.post_comment, name="comment"),
    path("articles/<slug:slug>/save/", views.toggle_saved, name="save"),
    path("comments/<int:pk>/delete/", views.delete_comment, name="delete-comment"),
    path("stories/<int:pk>/", views.StoryDetailView.as_view(), name="story"),
    path("tags/<slug:slug>/", views.TagArticleListView.as_view(), name="tag"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("saved/", views.SavedArticleListView.as_view(), name="saved"),
    path("feeds/", views.feed_list, name="feeds"),
    path("feeds/latest.rss", feeds.LatestArticlesFeed(), name="feed-rss"),
    path("feeds/latest.atom", feeds.LatestArticlesAtom(), name="feed-atom"),
    path("categories/<slug:slug>/feed.rss", feeds.CategoryFeed(), name="category-rss"),
    path("categories/<slug:slug>/feed.atom", feeds.CategoryAtom(), name="category-atom"),
    path("sources/<slug:slug>/feed.rss", feeds.SourceFeed(), name="source-rss"),
    path("sources/<slug:slug>/feed.atom", feeds.SourceAtom(), name="source-atom"),
    path("websub/<str:token>/", views.websub_callback, name="websub"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("offline/", views.offline, name="offline"),
]
