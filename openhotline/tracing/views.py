"""The routing rules and the partner hotline directory: every staff role reads them, hotline
managers change them (each change an audit event)."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from openhotline.accounts.access import staff_required
from openhotline.accounts.models import Role
from openhotline.audit.services import record
from openhotline.tracing.forms import PartnerHotlineForm, RoutingRuleForm
from openhotline.tracing.models import PartnerHotline, RoutingRule


def _managers(request: HttpRequest) -> None:
    if getattr(request.user, "role", "") != Role.MANAGER:
        record("tracing.refused", actor=request.user, obj=None, data={"path": request.path[:200]})
        raise PermissionDenied("Hotline managers only.")


@staff_required
@require_GET
def routing(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _page(request: HttpRequest, bound: Any = None) -> HttpResponse:
    """The page; `bound` is a form just posted with errors, shown in its place."""

    def form_for(cls: Any, prefix: str, instance: Any = None) -> Any:
        if bound is not None and bound.prefix == prefix:
            return bound
        return cls(instance=instance, prefix=prefix)

    context = {
        "rules": [
            (r, form_for(RoutingRuleForm, f"rule-{r.pk}", r)) for r in RoutingRule.objects.all()
        ],
        "partners": [
            (p, form_for(PartnerHotlineForm, f"partner-{p.pk}", p))
            for p in PartnerHotline.objects.all()
        ],
        "new_rule": form_for(RoutingRuleForm, "new-rule"),
        "new_partner": form_for(PartnerHotlineForm, "new-partner"),
    }
    status = 422 if bound is not None else 200
    return render(request, "tracing/routing.html", context, status=status)


@staff_required
@require_POST
def save_rule(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    _managers(request)
    rule = get_object_or_404(RoutingRule, pk=rule_id) if rule_id else None
    prefix = f"rule-{rule_id}" if rule_id else "new-rule"
    form = RoutingRuleForm(request.POST, instance=rule, prefix=prefix)
    if not form.is_valid():
        return _page(request, form)
    saved = form.save(commit=False)
    saved.updated_at = timezone.now()
    saved.save()
    record("tracing.rule_saved", actor=request.user, obj=saved, data=form.cleaned_data)
    messages.success(request, f"Rule for {saved.country or 'any other country'} saved.")
    return redirect("tracing:routing")


@staff_required
@require_POST
def save_partner(request: HttpRequest, partner_id: int | None = None) -> HttpResponse:
    _managers(request)
    partner = get_object_or_404(PartnerHotline, pk=partner_id) if partner_id else None
    prefix = f"partner-{partner_id}" if partner_id else "new-partner"
    form = PartnerHotlineForm(request.POST, instance=partner, prefix=prefix)
    if not form.is_valid():
        return _page(request, form)
    saved = form.save()
    record("tracing.partner_saved", actor=request.user, obj=saved, data=form.cleaned_data)
    messages.success(request, f"{saved.name} ({saved.country}) saved.")
    return redirect("tracing:routing")
