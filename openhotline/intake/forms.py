from django import forms
from django.utils.translation import gettext_lazy as _


class ReportForm(forms.Form):
    """Rendering and raw values only; the checking is `validation.check_report`."""

    urls = forms.CharField(
        label=_("Web addresses (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_("Copy each address from your browser's address bar. Do not visit them again."),
    )
    description = forms.CharField(
        label=_("What did you see? (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Anything that helps us find it, e.g. where on the page, or the app or "
            "service if there is no web address. Please do not include your name."
        ),
    )
    contact = forms.CharField(
        label=_("Your e-mail address (optional)"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_(
            "Only if you want us to tell you the outcome. It is stored encrypted and "
            "used for nothing else. Leave it empty to stay anonymous."
        ),
    )
    # A honeypot: hidden from people (and assistive technology), filled in by bots.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
