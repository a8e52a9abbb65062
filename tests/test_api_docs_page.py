"""The API documentation page (drf-spectacular's Swagger UI) as served: our template states
the page's language and loads our accessibility stylesheet and plugin from our own origin,
before the init script that installs the plugin; scripts stay under the strict policy.
(tests/browser/test_api_docs_browser.py runs axe over the page as a member uses it.)"""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_docs_page_states_its_language_and_loads_the_accessibility_fixes(
    client: Client,
) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'<html lang="en">', page)
    # (Hashed names in production: CompressedManifestStaticFilesStorage.)
    assert re.search(r'rel="stylesheet" href="/static/openhotline/swagger-a11y[.\w]*\.css"', page)
    scripts = re.findall(r'<script src="([^"]+)"></script>', page)
    assert re.fullmatch(r"/static/openhotline/swagger-a11y[.\w]*\.js", scripts[-2])
    assert scripts[-1] == "/api/docs/?script="
    assert "swagger-ui-bundle.js" in scripts[0]
    # No inline script: the policy for scripts stays 'self' only.
    assert "<script>" not in page
    policy = response["Content-Security-Policy"]
    assert re.search(r"script-src 'self'(;|$)", policy)


def test_the_init_script_installs_the_plugin_and_a_legible_highlighting_theme(
    client: Client,
) -> None:
    script = client.get("/api/docs/?script=").content.decode()
    assert "presets: [SwaggerUIBundle.presets.apis, OpenHotlineSwaggerA11y]" in script
    assert 'syntaxHighlight: {activated: true, theme: "idea"}' in script
    # drf-spectacular's own plugins (the schema reload on authorisation) are still passed.
    assert re.search(r"^\s*plugins,$", script, re.MULTILINE)
