from django.urls import path

from openhotline.tracing import views

app_name = "tracing"
urlpatterns = [
    path("routing/", views.routing, name="routing"),
    path("routing/rules/", views.save_rule, name="new_rule"),
    path("routing/rules/<int:rule_id>/", views.save_rule, name="rule"),
    path("routing/partners/", views.save_partner, name="new_partner"),
    path("routing/partners/<int:partner_id>/", views.save_partner, name="partner"),
]
