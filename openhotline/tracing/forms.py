"""Forms for the routing rules and the partner directory (managers edit them)."""

from django import forms

from openhotline.tracing.models import PartnerHotline, RoutingRule


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = [
            "country", "route", "await_police_clearance", "clearance_timeout_hours",
            "police_contact", "also_notice_host", "hold_for_qa", "chase_after_hours",
            "chases_before_escalation", "escalate_to", "notes",
        ]  # fmt: skip

    def clean_country(self) -> str:
        country = str(self.cleaned_data.get("country", "")).strip().upper()
        if country and (len(country) != 2 or not country.isalpha()):
            raise forms.ValidationError(
                "Give an ISO 3166-1 alpha-2 code such as NL, or leave empty."
            )
        return country


class PartnerHotlineForm(forms.ModelForm):
    class Meta:
        model = PartnerHotline
        fields = ["country", "name", "email", "website", "language", "inhope_member", "active"]

    def clean_country(self) -> str:
        country = str(self.cleaned_data.get("country", "")).strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise forms.ValidationError("Give an ISO 3166-1 alpha-2 code such as NL.")
        return country
