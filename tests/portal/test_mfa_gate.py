"""Mandatory MFA: every URL of the project refuses a logged-in session without a second factor.

The URLs are not listed by hand: the test walks the root resolver (the admin included), builds
a concrete URL for every pattern and checks that it resolves back to that very pattern. A new
page is therefore covered the moment it is routed, and the exempt list cannot grow unnoticed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.urls import (
    URLPattern,
    URLResolver,
    get_resolver,
    resolve,
    reverse,
)
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.regex_helper import normalize
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.middleware import MFA_EXEMPT_URL_NAMES, is_mfa_exempt
from portal.models import User
from portal.roles import Role
from tests.conftest import totp_now
from tests.factories import make_person

#: What DESIGN.md allows without a second factor: login, logout, password reset, MFA enrolment
#: and verification, the health check (static files are exempt by prefix, not by name).
EXPECTED_EXEMPT_URL_NAMES = frozenset({
    "account_login",
    "account_logout",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "portal:mfa_enrol",
    "portal:mfa_verify",
    "portal:healthz",
    # Sets only the language cookie before the second factor (the MFA pages have the switch).
    "portal:language_switch",
})

#: The walk must find at least this many patterns, so that it cannot pass on an empty list.
MIN_PATTERNS = 50

#: Sample values for URL parameters by name; object ids are filled from the database.
SAMPLE_VALUES = {
    "uidb64": "MQ",
    "token": "x-token",
    "uidb36": "1",
    "key": "x-key",
    "url": "does-not-exist/",
    "app_label": "portal",
    "public_id": "6f1c2a3e-0d4b-4c59-9a7e-1b2c3d4e5f60",  # a device import
}
CONVERTER_SAMPLES = {"int": "1", "str": "x", "slug": "x", "path": "x",
                     "uuid": "00000000-0000-0000-0000-000000000000"}
_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_ADMIN_MODEL_ROUTE = re.compile(r"^(?P<app_label>\w+)/(?P<model_name>\w+)/$")


@dataclass(frozen=True)
class ConcreteURL:
    """One routed pattern with a concrete URL that resolves back to it."""

    url: str
    view_name: str  # namespaced name, or "<unnamed> path.to.view" for unnamed patterns
    named: bool

    @property
    def is_exempt(self) -> bool:
        return self.named and self.view_name in MFA_EXEMPT_URL_NAMES

    @property
    def is_admin(self) -> bool:
        return self.url.startswith(reverse("admin:index"))


def _walk(resolver: URLResolver, chain: tuple = (), namespaces: tuple = ()):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(entry, (*chain, entry), inner)
        else:
            assert isinstance(entry, URLPattern)
            yield (*chain, entry), namespaces


def _model_of(chain) -> type | None:
    """For admin model URLs (``<app_label>/<model_name>/...``) the model they are about."""
    for entry in chain:
        if isinstance(entry.pattern, RoutePattern):
            match = _ADMIN_MODEL_ROUTE.match(entry.pattern._route)
            if match:
                try:
                    return apps.get_model(match["app_label"], match["model_name"])
                except LookupError:
                    continue
    return None


def _value(name: str, converter: str | None, model: type | None, user: User) -> str:
    if name in ("object_id", "pk") and model is not None:
        obj = model._default_manager.order_by("pk").first()
        return str(obj.pk) if obj is not None else "1"
    if name == "user_id":
        return str(user.pk)
    if name == "device_id":
        device = TOTPDevice.objects.filter(user=user).order_by("pk").first()
        return str(device.pk) if device else "1"
    if name == "content_type_id":
        return str(ContentType.objects.get_for_model(User).pk)
    if name == "object_id":  # admin:view_on_site, next to the content type above
        return str(user.pk)
    if name in SAMPLE_VALUES:
        return SAMPLE_VALUES[name]
    return CONVERTER_SAMPLES.get(converter or "str", "x")


def _piece(pattern, model, user) -> str:
    if isinstance(pattern, RoutePattern):
        return _ROUTE_PARAM.sub(
            lambda m: _value(m["name"], m["converter"], model, user), pattern._route)
    assert isinstance(pattern, RegexPattern), f"unexpected pattern type {pattern!r}"
    template, params = normalize(pattern._regex)[0]
    return template % {name: _value(name, None, model, user) for name in params}


def concrete_urls(user: User) -> list[ConcreteURL]:
    """A concrete URL for every pattern of the root URLconf, each checked by resolving it."""
    found = []
    for chain, namespaces in _walk(get_resolver()):
        leaf = chain[-1]
        model = _model_of(chain)
        url = "/" + "".join(_piece(entry.pattern, model, user) for entry in chain)
        if leaf.name:
            view_name, named = ":".join((*namespaces, leaf.name)), True
        else:
            view_name, named = f"<unnamed> {url} {leaf.lookup_str}", False
        match = resolve(url)
        assert match.func is leaf.callback and match.url_name == leaf.name, (
            f"{url} was built for {view_name} but resolves to {match.view_name}; "
            "add a sample value for its parameters to SAMPLE_VALUES")
        found.append(ConcreteURL(url=url, view_name=view_name, named=named))
    return found


def _force_login_unverified(client, user) -> None:
    client.force_login(user)
    assert DEVICE_ID_SESSION_KEY not in client.session


def _middleware_redirect(target: str, url: str) -> str:
    return f"{reverse(target)}?{urlencode({'next': url})}"


@pytest.fixture
def admin_person(world):
    """A provider admin: the person with the most to lose without a second factor."""
    return world["people"]["provider_admin"]


@pytest.fixture
def person_without_device(world):
    return make_person(Role.PROVIDER_ADMIN, world["orgs"]["provider"], mfa=False)


# --- the exempt list --------------------------------------------------------------------------


def test_exempt_list_is_exactly_the_designed_one():
    assert MFA_EXEMPT_URL_NAMES == EXPECTED_EXEMPT_URL_NAMES


def test_walk_finds_every_pattern_and_every_exempt_name(admin_person):
    urls = concrete_urls(admin_person)
    names = {u.view_name for u in urls if u.named}
    assert len(urls) > MIN_PATTERNS, f"only {len(urls)} patterns found"
    assert len({u.url for u in urls}) == len(urls), "two patterns got the same URL"
    # Every part of the site is in the walk: portal, allauth and the admin with its models.
    for expected in ("portal:dashboard", "portal:team_deactivate", "portal:device_remove",
                     "portal:invitation_accept", "account_email", "account_change_password",
                     "admin:index", "admin:autocomplete", "admin:view_on_site",
                     "admin:portal_user_changelist", "admin:portal_user_change",
                     "admin:portal_auditevent_changelist", "admin:django_q_schedule_change",
                     "devices:list", "devices:add", "devices:detail", "devices:edit",
                     "devices:retire", "devices:import", "devices:import_detail",
                     "devices:import_confirm", "devices:import_cancel", "devices:export",
                     "contracts:contract", "contracts:cancel", "contracts:catalogue",
                     "contracts:book", "contracts:remove", "contracts:withdraw",
                     "contracts:change_tier"):
        assert expected in names, expected
    assert any(not u.named for u in urls), "unnamed patterns (admin redirects) are walked too"
    # No exempt name is a typo: each one is routed.
    assert names >= EXPECTED_EXEMPT_URL_NAMES
    assert sum(u.is_exempt for u in urls) == len(EXPECTED_EXEMPT_URL_NAMES)


def test_static_files_are_exempt(client, admin_person, settings):
    settings.WHITENOISE_USE_FINDERS = True  # serve from the app directories, no collectstatic
    _force_login_unverified(client, admin_person)
    url = f"{settings.STATIC_URL}portal/portal.css"
    assert is_mfa_exempt(url)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)
    # A file WhiteNoise does not know passes the MFA middleware, which lets it through too.
    missing = f"{settings.STATIC_URL}portal/missing.css"
    assert is_mfa_exempt(missing)
    assert client.get(missing).status_code == 404


# --- every other URL refuses an unverified session --------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(("with_device", "target"), [
    (True, "portal:mfa_verify"),
    (False, "portal:mfa_enrol"),
], ids=["confirmed-device", "no-device"])
def test_unverified_session_is_refused_everywhere(client, admin_person, person_without_device,
                                                  method, with_device, target):
    user = admin_person if with_device else person_without_device
    _force_login_unverified(client, user)
    urls = [u for u in concrete_urls(user) if not u.is_exempt]
    assert len(urls) > MIN_PATTERNS - len(EXPECTED_EXEMPT_URL_NAMES)
    leaks, redirected = [], 0
    for entry in urls:
        response = getattr(client, method)(entry.url)
        status = response.status_code
        if status == 302 and response["Location"] == _middleware_redirect(target, entry.url):
            redirected += 1
        elif status not in (403, 404, 405):
            leaks.append(f"{method.upper()} {entry.url} ({entry.view_name}): {status} "
                         f"{response.get('Location', '')}")
    assert not leaks, "reachable without a second factor:\n" + "\n".join(leaks)
    # The gate itself answers (not some view refusing by accident): every URL is redirected.
    assert redirected == len(urls)
    # The session survived the walk, so every request really was an authenticated one.
    assert int(client.session["_auth_user_id"]) == user.pk


@pytest.mark.parametrize("method", ["get", "post"])
def test_exempt_urls_are_reachable_without_second_factor(client, admin_person, method):
    exempt = [u for u in concrete_urls(admin_person) if u.is_exempt]
    assert {u.view_name for u in exempt} == EXPECTED_EXEMPT_URL_NAMES
    for entry in exempt:
        _force_login_unverified(client, admin_person)  # the logout POST ends the session
        assert is_mfa_exempt(entry.url)
        response = getattr(client, method)(entry.url)
        assert response.status_code < 500 or entry.view_name == "portal:healthz", entry
        for target in ("portal:mfa_verify", "portal:mfa_enrol"):
            assert response.get("Location") != _middleware_redirect(target, entry.url), entry


# --- enrolment or verification ----------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["portal:dashboard", "portal:team", "admin:index",
                                      "admin:portal_user_changelist", "account_email"])
def test_person_without_device_is_sent_to_enrolment(client, person_without_device, url_name):
    # An enrolment that was started but never confirmed does not count as a second factor.
    TOTPDevice.objects.create(user=person_without_device, name="halb", confirmed=False)
    _force_login_unverified(client, person_without_device)
    url = reverse(url_name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == _middleware_redirect("portal:mfa_enrol", url)
    # The verification page has nothing to verify and passes the person on to enrolment.
    response = client.get(reverse("portal:mfa_verify"), {"next": url})
    assert response.status_code == 302
    assert response["Location"] == _middleware_redirect("portal:mfa_enrol", url)
    response = client.get(reverse("portal:mfa_enrol"), {"next": url})
    assert response.status_code == 200
    assert "portal/mfa/enrol.html" in [t.name for t in response.templates]


@pytest.mark.parametrize("url_name", ["portal:dashboard", "portal:team", "admin:index",
                                      "admin:portal_user_changelist", "account_email"])
def test_person_with_device_is_sent_to_verification(client, admin_person, url_name):
    _force_login_unverified(client, admin_person)
    url = reverse(url_name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == _middleware_redirect("portal:mfa_verify", url)

    device = TOTPDevice.objects.get(user=admin_person, confirmed=True)
    response = client.post(reverse("portal:mfa_verify"),
                           {"token": totp_now(device), "next": url})
    assert response.status_code == 302
    assert response["Location"] == url
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(url).status_code == 200


def test_wrong_code_does_not_open_the_gate(client, admin_person):
    _force_login_unverified(client, admin_person)
    device = TOTPDevice.objects.get(user=admin_person, confirmed=True)
    wrong = f"{(int(totp_now(device)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("portal:mfa_verify"), {"token": wrong, "next": "/"})
    assert response.status_code == 200
    assert DEVICE_ID_SESSION_KEY not in client.session
    dashboard = reverse("portal:dashboard")
    assert client.get(dashboard)["Location"] == _middleware_redirect("portal:mfa_verify",
                                                                     dashboard)


@pytest.mark.parametrize("method", ["get", "post"])
def test_password_alone_cannot_enrol_another_device(client, admin_person, method):
    """With a confirmed device, enrolment needs a verified session: a stolen password must not
    be enough to add the attacker's authenticator app."""
    _force_login_unverified(client, admin_person)
    response = getattr(client, method)(reverse("portal:mfa_enrol"), {"token": "123456"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:mfa_verify"))
    assert TOTPDevice.objects.filter(user=admin_person).count() == 1
    assert DEVICE_ID_SESSION_KEY not in client.session
