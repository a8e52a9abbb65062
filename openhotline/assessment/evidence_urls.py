from django.urls import path

from openhotline.assessment import evidence_views as views

# Named "evidence" (its pages are the evidence app's), served here: what a person may see
# of media is decided by assessment's welfare settings and reveals.
app_name = "evidence"
urlpatterns = [
    path("media/<int:media_id>/<str:variant>/", views.media_view, name="media"),
    path("cases/<int:case_id>/recapture/", views.recapture, name="recapture"),
]
