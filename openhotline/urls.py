from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from openhotline.casefile.api import CaseDetailView, CaseListView
from openhotline.core.admin_site import StaffAdminSite
from openhotline.feeds import api as feed_api
from openhotline.feeds import guides, match_api
from openhotline.feeds import views as feed_views
from openhotline.intake.api import ReportsView

# Error pages in the visitor's language, saying what to do next.
handler400 = "openhotline.intake.error_pages.bad_request"
handler403 = "openhotline.intake.error_pages.permission_denied"
handler404 = "openhotline.intake.error_pages.page_not_found"
handler500 = "openhotline.intake.error_pages.server_error"

# The admin asks for the second factor too, through the staff sign-in page.
admin.site.__class__ = StaffAdminSite

api_v1 = [
    path("reports", ReportsView.as_view(), name="reports"),
    path("cases", CaseListView.as_view(), name="cases"),
    path("cases/<int:pk>", CaseDetailView.as_view(), name="case"),
    path("feeds/<str:name>/snapshot", feed_api.snapshot, name="feed-snapshot"),
    path("feeds/<str:name>/delta", feed_api.delta, name="feed-delta"),
    path("match", match_api.match, name="match"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="intake:report", permanent=False)),
    path("", include("openhotline.intake.urls")),
    path("staff/", include("openhotline.casefile.urls")),
    path("staff/", include("openhotline.accounts.urls")),
    path("staff/", include("openhotline.assessment.evidence_urls")),
    path("staff/", include("openhotline.signals.urls")),
    path("staff/", include("openhotline.assessment.urls")),
    path("staff/", include("openhotline.tracing.urls")),
    path("", include("openhotline.takedown.urls")),
    path("members/", include("openhotline.feeds.member_urls")),
    path("staff/", include("openhotline.feeds.staff_member_urls")),
    path("staff/", include("openhotline.feeds.staff_urls")),
    path(".well-known/openhotline-feed-key.pem", feed_views.feed_key, name="feed-key"),
    path("staff/admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI sets inline styles; its scripts stay under the strict policy.
    path(
        "api/docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="api-docs",
    ),
    # The member API's guides (docs/*.md), as plain text.
    path("api/docs/<slug:page>.md", guides.guide, name="api-guide"),
]
