from django.urls import path

from openhotline.feeds import staff_views as views

app_name = "feeds"
urlpatterns = [
    path("feeds/", views.index, name="index"),
    path("feeds/<slug:feed>/", views.feed_entries, name="feed"),
    path("feeds/<slug:feed>/add/", views.add_entry, name="add"),
    path("feeds/<slug:feed>/remove/", views.remove_entry, name="remove"),
]
