from django.urls import path

from openhotline.evidence import views

app_name = "evidence"
urlpatterns = [
    path("media/<int:media_id>/<str:variant>/", views.media_view, name="media"),
    path("cases/<int:case_id>/recapture/", views.recapture, name="recapture"),
]
