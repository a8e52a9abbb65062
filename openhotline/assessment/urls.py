from django.urls import path

from openhotline.assessment import review_views, views

app_name = "assessment"
urlpatterns = [
    path("assess/", views.queue_page, name="queue"),
    path("assess/next/", views.claim_next, name="next"),
    path("assess/welfare/", views.welfare_settings, name="welfare"),
    path("assess/cases/<int:case_id>/", views.case_screen, name="case"),
    path("assess/cases/<int:case_id>/claim/", views.claim, name="claim"),
    path("assess/cases/<int:case_id>/release/", views.release, name="release"),
    path("assess/cases/<int:case_id>/skip/", views.skip, name="skip"),
    path("assess/cases/<int:case_id>/decide/", views.decide_case, name="decide"),
    path("assess/cases/<int:case_id>/media/<int:media_id>/reveal/", views.reveal, name="reveal"),
    path("assess/cases/<int:case_id>/media/<int:media_id>/grade/", views.grade, name="grade"),
    path("qa/", review_views.reviews, name="reviews"),
    path("qa/agreement/", review_views.agreement, name="agreement"),
    path("qa/analysts/<int:user_id>/", review_views.qa_regime, name="qa_regime"),
    path("qa/<int:review_id>/", review_views.review_screen, name="review"),
    path("qa/<int:review_id>/start/", review_views.start_review, name="start_review"),
    path("qa/<int:review_id>/recuse/", review_views.recuse, name="recuse"),
    path("qa/<int:review_id>/submit/", review_views.submit_review, name="submit_review"),
    path("qa/<int:review_id>/resolve/", review_views.resolve, name="resolve"),
    path(
        "qa/<int:review_id>/cases/<int:case_id>/media/<int:media_id>/reveal/",
        review_views.review_reveal,
        name="review_reveal",
    ),
    path(
        "qa/<int:review_id>/cases/<int:case_id>/media/<int:media_id>/grade/",
        review_views.review_grade,
        name="review_grade",
    ),
]
