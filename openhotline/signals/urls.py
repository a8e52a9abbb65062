from django.urls import path

from openhotline.signals import views

app_name = "signals"
urlpatterns = [
    path("lists/", views.hash_lists, name="lists"),
    path("lists/<slug:name>/", views.hash_list, name="list"),
    path("lists/<slug:name>/settings/", views.list_settings, name="list-settings"),
    path("lists/<slug:name>/sharing/", views.list_sharing, name="list-sharing"),
    path("lists/<slug:name>/allow/", views.allow_hash, name="allow"),
    path("entries/<int:entry_id>/", views.entry_detail, name="entry"),
    path("entries/<int:entry_id>/retire/", views.entry_retire, name="retire"),
    path("entries/<int:entry_id>/restore/", views.entry_restore, name="restore"),
    path("matches/", views.matches, name="matches"),
    path("matches/<int:match_id>/", views.match_detail, name="match"),
]
