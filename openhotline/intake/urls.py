from django.urls import path

from openhotline.intake import views

app_name = "intake"
urlpatterns = [
    path("report/", views.report, name="report"),
    path("report/status/<str:reference>/<str:secret>/", views.status, name="status"),
    path("portal/<slug:slug>/", views.portal_report, name="portal"),
]
