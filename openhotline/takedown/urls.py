from django.urls import path

from openhotline.takedown import views

app_name = "takedown"
urlpatterns = [
    path("notice/<str:reference>/removed/<str:secret>/", views.removed, name="removed"),
    path("staff/actions/<int:action_id>/police-cleared/", views.police_cleared, name="cleared"),
    path(
        "staff/cases/<int:case_id>/intelligence-package/",
        views.intelligence_package,
        name="package",
    ),
    path(
        "staff/actions/cases/<int:case_id>/needs-person-cleared/",
        views.needs_person_cleared,
        name="needs_person_cleared",
    ),
]
