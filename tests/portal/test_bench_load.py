"""The load benchmark's own parts (tests/perf/bench_load.py): its baseline view and its login
helper, which must yield a session that passed the second factor, or the load would only
measure redirects to the MFA page."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.mfa import base32_secret
from tests.factories import PASSWORD, DeviceFactory
from tests.perf.bench_load import BARE, BARE_WITH_SESSION, REAL, LoadResult, _print_report
from tests.perf.load_client import (
    PageCheckFailed,
    PortalClient,
    expect_page,
    login_verified,
    totp_code,
)
from tests.perf.load_plan import BARE_PATH


@pytest.mark.urls("tests.perf.load_urls")
def test_bare_view_renders_twenty_rows_with_one_query(client, world,
                                                      django_assert_num_queries):
    DeviceFactory.create_batch(25, customer=world["orgs"]["customer_a"])
    with django_assert_num_queries(1):
        response = client.get(BARE_PATH)
    assert response.status_code == 200
    assert response.content.decode().count('<tr class="row">') == 20


def test_login_helper_yields_a_verified_session(transactional_db, world, live_server):
    person = world["people"]["customer_admin"]
    device = TOTPDevice.objects.get(user=person, confirmed=True)
    client = PortalClient(live_server.url, behind_tls_proxy=False)

    login_verified(client, email=person.email, password=PASSWORD,
                   code=totp_code(base32_secret(device)))

    page = expect_page(client, "/", "Kunde A")
    assert "sessionid=" in client.cookie_header()
    assert page.status == 200


def test_login_helper_refuses_a_wrong_second_factor(transactional_db, world, live_server):
    person = world["people"]["customer_admin"]
    client = PortalClient(live_server.url, behind_tls_proxy=False)

    with pytest.raises(PageCheckFailed, match="second factor"):
        login_verified(client, email=person.email, password=PASSWORD, code="backup99")
    with pytest.raises(PageCheckFailed, match="status 302"):
        expect_page(client, "/", "Kunde A")



def _load(requests: int, seconds: float = 10.0, **statuses: int) -> LoadResult:
    values = {"requests": requests, "duration_us": int(seconds * 1e6),
              **{f"latency_{name}_us": 1000 * (i + 1)
                 for i, name in enumerate(("p50", "p95", "p99", "max"))},
              **{f"error_{name}": 0 for name in ("connect", "read", "write", "timeout")},
              **{f"status_{code.removeprefix('s')}": count for code, count in statuses.items()}}
    return LoadResult(values)


def test_report_gives_both_baselines_and_both_ratios(capsys):
    seed = {"customer": "Kunde A", "devices": 300, "load_average": 0.5,
            "queries": {BARE_PATH: 1}}
    results = {BARE: _load(2000, s200=2000), BARE_WITH_SESSION: _load(1000, s200=1000),
               REAL: _load(600, s200=598, s500=2)}

    _print_report(seed, {BARE_PATH: 5.0}, results, seconds=10)

    lines = capsys.readouterr().out.splitlines()
    rows = {line.split("  ")[1].strip(): line for line in lines if line.startswith("  bare view")}
    assert set(rows) == {"bare view", "bare view (verified)"}
    assert "ratio real/bare  0.30x requests/s (goal >= 0.50: MISSED)" in "\n".join(lines)
    assert any("5xx: 2" in line for line in lines)
    assert any(line.startswith("  ratio real/bare (verified)  0.60x requests/s")
               and "bare (verified)/bare 0.50x" in line for line in lines)
