"""`/api/v1/reports`: anyone may POST a report; hotline staff may list them."""

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from openhotline.accounts.api_auth import IsHotlineStaff
from openhotline.api.plumbing import (
    LimitedJSONParser,
    NewestReportFirst,
    ReportThrottle,
    clean_param,
)
from openhotline.intake.models import Channel, Portal, Report
from openhotline.intake.services import accept_report
from openhotline.intake.validation import check_report
from openhotline.intake.views import status_path


class ReportInSerializer(serializers.Serializer[Any]):
    urls = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=8192),
        required=False,
        default=list,
        max_length=1000,
    )
    description = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False, max_length=100_000
    )
    portal = serializers.SlugField(required=False, allow_blank=True, default="")
    contact = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)
    language = serializers.ChoiceField(
        choices=[code for code, _ in settings.LANGUAGES], required=False, default="en"
    )


class ReportOutSerializer(serializers.ModelSerializer[Report]):
    portal: serializers.SlugRelatedField[Portal] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    cases = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "reference", "channel", "portal", "description", "language", "created_at",
            "wants_outcome", "cases",
        ]  # fmt: skip

    def get_cases(self, report: Report) -> list[int]:
        return [item.case_id for item in report.items.all()]


class ReportsView(generics.ListAPIView[Report]):
    serializer_class = ReportOutSerializer
    parser_classes = [LimitedJSONParser]
    throttle_classes = [ReportThrottle]
    pagination_class = NewestReportFirst

    def get_permissions(self) -> list[Any]:
        if self.request.method == "POST":
            return [permissions.AllowAny()]
        return [IsHotlineStaff()]

    def get_queryset(self) -> QuerySet[Report]:
        queryset = Report.objects.select_related("portal").prefetch_related("items")
        params = self.request.query_params
        if channel := clean_param(params, "channel"):
            queryset = queryset.filter(channel=channel)
        if portal := clean_param(params, "portal"):
            queryset = queryset.filter(portal__slug=portal)
        if "case" in params:
            case = clean_param(params, "case")
            if not case.isdigit():
                raise ValidationError({"case": ["A case number, e.g. 42."]})
            queryset = queryset.filter(items__case_id=int(case))
        return queryset

    @extend_schema(
        parameters=[
            OpenApiParameter("channel", enum=Channel.values),
            OpenApiParameter("portal", str, description="Portal slug"),
            OpenApiParameter("case", int, description="Reports on this case"),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=ReportInSerializer,
        responses={
            201: inline_serializer(
                "ReportAccepted",
                {
                    "reference": serializers.CharField(),
                    "status_url": serializers.URLField(),
                    "cases": serializers.IntegerField(),
                },
            ),
            400: inline_serializer(
                "ReportRejected",
                {"errors": serializers.DictField(child=serializers.ListField())},
            ),
        },
        auth=[],
        description="Report suspected child sexual abuse material. Anonymous; throttled.",
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = ReportInSerializer(data=request.data)
        if not incoming.is_valid():
            return Response({"errors": incoming.errors}, status=status.HTTP_400_BAD_REQUEST)
        data = incoming.validated_data
        portal = None
        if data["portal"]:
            portal = Portal.objects.filter(slug=data["portal"], is_active=True).first()
            if portal is None:
                return Response(
                    {"errors": {"portal": [f"There is no portal {data['portal']!r}."]}},
                    status=status.HTTP_400_BAD_REQUEST,
                )
        checked = check_report(data["urls"], data["description"], data["contact"])
        if checked.errors:
            return Response({"errors": checked.errors}, status=status.HTTP_400_BAD_REQUEST)
        accepted = accept_report(
            checked,
            channel=Channel.API,
            portal=portal,
            language=data["language"],
        )
        return Response(
            {
                "reference": accepted.report.reference,
                "status_url": settings.SITE_URL
                + status_path(accepted.report.reference, accepted.status_secret),
                "cases": len(checked.urls) or 1,
            },
            status=status.HTTP_201_CREATED,
        )
