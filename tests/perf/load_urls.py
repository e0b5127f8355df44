"""URLconf of the load benchmark: the portal's own URLs plus ``/bench/bare/``, the baseline.

The baseline is the least a Django page costs on the same gunicorn, settings and middleware:
an anonymous request, one query for 20 devices, one template. It exists only here.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.template import engines
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns

BARE_ROWS = 20
BARE_TEMPLATE = engines["django"].from_string(
    "<!doctype html><html lang=\"de\"><head><meta charset=\"utf-8\"><title>Baseline</title>"
    "</head><body><table>"
    "<thead><tr><th>Hostname</th><th>Seriennummer</th><th>Art</th><th>Betriebssystem</th>"
    "<th>Standort</th><th>zuletzt gesehen</th></tr></thead><tbody>"
    "{% for device in devices %}<tr class=\"row\"><td>{{ device.hostname }}</td>"
    "<td>{{ device.serial_number }}</td><td>{{ device.get_kind_display }}</td>"
    "<td>{{ device.operating_system }}</td><td>{{ device.location }}</td>"
    "<td>{{ device.last_seen|date:\"SHORT_DATETIME_FORMAT\" }}</td></tr>{% endfor %}"
    "</tbody></table></body></html>"
)


def bare(request):
    """20 devices, newest first: a query and a template, nothing of the portal's own work."""
    from devices.models import Device

    devices = Device.objects.order_by("-pk")[:BARE_ROWS]
    return HttpResponse(BARE_TEMPLATE.render({"devices": devices}, request))


urlpatterns = [*portal_urlpatterns, path("bench/bare/", bare, name="bench_bare")]
