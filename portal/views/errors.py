"""The page for a failed CSRF check (``CSRF_FAILURE_VIEW``): in the portal's layout, in the
person's language, with a way back to the form; Django's own is a bare English page.

403, 404 and 500 need no views: Django's handlers render templates/403.html, 404.html and
500.html (the last one without a request, see its comment).
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme


def csrf_failure(request, reason: str = ""):
    """``reason`` is Django's technical text; the person gets a plain explanation instead.

    The way back is the page the form was on (the referrer, when it is this portal), else the
    address posted to, which for most forms is the form's own page."""
    referrer = request.META.get("HTTP_REFERER", "")
    same_site = url_has_allowed_host_and_scheme(
        referrer, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    retry_url = referrer if referrer and same_site else request.path
    return render(request, "403_csrf.html", {"retry_url": retry_url}, status=403)
