"""`/api/v1/cases`: hotline staff read cases, filtered."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers

from openhotline.api.plumbing import NewestActivityFirst, clean_param
from openhotline.assessment.blinding import BLIND_STATE, blinded_ids, without_blinded
from openhotline.casefile.search import SearchError, search_cases
from openhotline.cases.models import Case, CaseKind, CaseState, CaseTransition


class TransitionSerializer(serializers.ModelSerializer[CaseTransition]):
    actor: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = CaseTransition
        fields = ["from_state", "to_state", "actor", "at", "reason"]


class CaseSerializer(serializers.ModelSerializer[Case]):
    channel = serializers.CharField(source="latest_report.channel", default=None)
    portal = serializers.CharField(source="latest_report.portal.slug", default=None)

    class Meta:
        model = Case
        fields = [
            "id", "kind", "url", "host", "state", "report_count", "created_at",
            "last_reported_at", "channel", "portal",
        ]  # fmt: skip

    def to_representation(self, instance: Case) -> dict[str, Any]:
        shown = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and instance.pk in blinded_ids(request):
            # Under this person's blind review: nothing that follows the decision.
            shown["state"] = BLIND_STATE
            if "transitions" in shown:
                shown["transitions"] = []
        return shown


class CaseDetailSerializer(CaseSerializer):
    transitions = TransitionSerializer(many=True, read_only=True)
    reports = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "transitions", "reports"]

    def get_reports(self, case: Case) -> list[str]:
        return [item.report.reference for item in case.report_items.select_related("report")]


def filtered_cases(params: Any) -> QuerySet[Case]:
    """Cases for the inbox and the API, filtered by the query parameters both accept."""
    queryset = Case.objects.select_related("latest_report__portal")
    if params.get("state") in CaseState.values:
        queryset = queryset.filter(state=params["state"])
    if params.get("kind") in CaseKind.values:
        queryset = queryset.filter(kind=params["kind"])
    if channel := clean_param(params, "channel"):
        queryset = queryset.filter(latest_report__channel=channel)
    if portal := clean_param(params, "portal"):
        queryset = queryset.filter(latest_report__portal__slug=portal)
    if host := clean_param(params, "host").lower():
        queryset = queryset.filter(host=host)
    # The inbox's search box: a reference, host, address, network or hash; `from`/`to`.
    return search_cases(queryset, params).cases


@extend_schema_view(
    get=extend_schema(
        parameters=[
            OpenApiParameter("state", enum=CaseState.values),
            OpenApiParameter("kind", enum=CaseKind.values),
            OpenApiParameter("channel", str),
            OpenApiParameter("portal", str),
            OpenApiParameter("host", str),
            OpenApiParameter(
                "q",
                str,
                description="What the inbox's search box takes: a report reference (R-…), "
                "a notice or referral reference (N…), a host or domain, a hosting IP address "
                "or network (CIDR), a hash (MD5, SHA-1, SHA-256 or PDQ, any spelling), "
                "else part of the URL. At most 200 characters.",
            ),
            OpenApiParameter("from", OpenApiTypes.DATE, description="Reported on or after"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Reported on or before"),
        ]
    )
)
class CaseListView(generics.ListAPIView[Case]):
    serializer_class = CaseSerializer
    pagination_class = NewestActivityFirst

    def get_queryset(self) -> QuerySet[Case]:
        try:
            cases = filtered_cases(self.request.query_params)
        except SearchError as problem:
            raise serializers.ValidationError({"q": [str(problem)]}) from None
        if any(self.request.query_params.get(name) for name in ("state", "q")):
            cases = without_blinded(cases, self.request)
        return cases


class CaseDetailView(generics.RetrieveAPIView[Case]):
    serializer_class = CaseDetailSerializer
    queryset = Case.objects.select_related("latest_report__portal").prefetch_related(
        "transitions__actor"
    )
