from django.urls import path

from openhotline.feeds import member_views

app_name = "members"
urlpatterns = [
    path("", member_views.home, name="home"),
    path("keys/", member_views.create_key, name="create_key"),
    path("keys/<str:key_id>/revoke/", member_views.revoke_key, name="revoke"),
]
