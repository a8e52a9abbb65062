from django.urls import path

from openhotline.casefile import views

app_name = "cases"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("cases/<int:case_id>/", views.case_detail, name="detail"),
]
