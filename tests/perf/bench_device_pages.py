"""The device list page and the admin changelist at 10 and at 50,000 devices: query counts
(must be equal) and time per page, reported as a ratio of the large to the small inventory."""

from __future__ import annotations

import time

from tests.perf.throwaway_db import throwaway_database

PAGES = (("portal /geraete/", "customer_admin", "/geraete/"),
         ("portal /geraete/?q=PC", "customer_admin", "/geraete/?q=PC-FFM"),
         ("admin device changelist", "provider_admin", "/admin/devices/device/"),
         ("admin changelist, customer filter", "provider_admin",
          "/admin/devices/device/?customer__id__exact={customer}"))
LARGE = 50_000
REPEAT = 5


def _measure(client, url: str) -> tuple[int, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm up
    best = float("inf")
    for _ in range(REPEAT):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            best = min(best, time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return len(queries.captured_queries), best


def _fill(customer, count: int, offset: int) -> None:
    from devices.models import Device, DeviceKind

    Device.objects.bulk_create(
        (Device(customer=customer, hostname=f"PC-FFM-{offset + n:06d}",
                serial_number=f"SN{offset + n:08d}", kind=DeviceKind.WORKSTATION,
                operating_system="Windows 11 Pro", location="Frankfurt, Büro")
         for n in range(count)), batch_size=5000)


def main() -> None:
    with throwaway_database() as vendor:
        from django.test import Client

        from portal.roles import OrganisationKind, Role
        from tests.conftest import verify_session
        from tests.factories import OrganisationFactory, make_person

        provider = OrganisationFactory(kind=OrganisationKind.PROVIDER)
        customer = OrganisationFactory(name="Seitenlast GmbH")
        people = {"provider_admin": make_person(Role.PROVIDER_ADMIN, provider),
                  "customer_admin": make_person(Role.CUSTOMER_ADMIN, customer)}
        clients = {}
        for role, person in people.items():
            clients[role] = Client()
            verify_session(clients[role], person)
        _fill(customer, 10, 0)
        small = {label: _measure(clients[role], url.format(customer=customer.pk))
                 for label, role, url in PAGES}
        _fill(customer, LARGE - 10, 10)
        large = {label: _measure(clients[role], url.format(customer=customer.pk))
                 for label, role, url in PAGES}
        print(f"device pages: 10 vs {LARGE:,} devices ({vendor}), best of {REPEAT}")
        for label, _role, _url in PAGES:
            (q_small, t_small), (q_large, t_large) = small[label], large[label]
            same = "equal" if q_small == q_large else "GROWS"
            print(f"  {label:36} queries {q_small:3} / {q_large:3} ({same})"
                  f"   {t_small * 1e3:7.1f} ms / {t_large * 1e3:7.1f} ms"
                  f"   ratio {t_large / t_small:5.1f}x")


if __name__ == "__main__":
    main()
