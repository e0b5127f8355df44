"""The main pages of every kind of person at phone (390 px) and desktop (1280 px) width: no
sideways scrolling, no visible element past the right edge of the window (a button pushed
into a table's scroll area is as unreachable as one off the page), the key buttons on screen.

Screenshots of every page land in the test's tmp dir (``--basetemp`` to keep them) so a
person can look at what was asserted.
"""

from __future__ import annotations

from pprint import pformat

import pytest

from contracts.catalogue import plans_seed
from contracts.documents import contract_summary_create
from contracts.services import booking_create
from portal.roles import OrganisationKind, Role
from portal.services.audit import access_log_record
from tests.e2e.test_login_dashboard import login
from tests.factories import DeviceFactory, OrganisationFactory, make_person

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 1280)

#: Visible elements past the right edge of the window, or sticking out of their card: a cell
#: scrolled away inside a table counts (its button is out of reach), a visually hidden one not.
_ELEMENTS_PAST_RIGHT_EDGE = """() => {
  const out = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className.trim()
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const clippedAway = (el) => {
    for (let box = el.parentElement; box; box = box.parentElement) {
      const rect = box.getBoundingClientRect();
      if ((rect.width <= 1 || rect.height <= 1) && getComputedStyle(box).overflow !== 'visible') {
        return true;
      }
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    const rect = el.getBoundingClientRect();
    if (rect.width <= 1 || rect.height <= 1) continue;
    if (el.closest('.visually-hidden, [hidden], [aria-hidden=true]')) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    if (clippedAway(el)) continue;
    const card = el.parentElement && el.parentElement.closest('.card');
    const limit = card ? card.getBoundingClientRect().right : window.innerWidth;
    if (rect.right > limit + 1) {
      out.push(`${name(el)} right=${Math.round(rect.right)} > ${Math.round(limit)}` +
               ` ${(el.innerText || '').slice(0, 30)}`);
    }
  }
  return out;
}"""


def layout_problems(page, shots, name: str, width: int, *,
                    visible: tuple[str, ...] = ()) -> list:
    """Screenshot the page, then list what does not fit the window: sideways scrolling,
    elements past the right edge, ``visible`` buttons that are not fully on screen."""
    page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]")
    problems = []
    if scroll_width > inner_width:
        problems.append((name, width, "page scrolls sideways", scroll_width))
    past_edge = page.evaluate(_ELEMENTS_PAST_RIGHT_EDGE)
    if past_edge:
        problems.append((name, width, "past the right edge", past_edge[:6]))
    for selector in visible:
        button = page.locator(selector).first
        box = button.bounding_box() if button.is_visible() else None
        if box is None or box["x"] < 0 or box["x"] + box["width"] > inner_width:
            problems.append((name, width, "not on screen", selector))
    return problems


def visit(page, base: str, shots, pages: list[tuple[str, str, tuple[str, ...]]]) -> None:
    """Every page at every width; fails with all problems found, not only the first."""
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for name, path, visible in pages:
            response = page.goto(f"{base}{path}")
            assert response.status == 200, (name, path, response.status)
            problems += layout_problems(page, shots, name, width, visible=visible)
    assert not problems, pformat(problems, width=110)


@pytest.fixture
def shots(tmp_path):
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


@pytest.fixture
def customer_with_contract(db):
    customer = OrganisationFactory(name="Steuerberatung Hoffmann-Schäfer & Partner mbB")
    admin = make_person(Role.CUSTOMER_ADMIN, customer, first_name="Claudia")
    devices = [DeviceFactory(customer=customer, hostname=f"arbeitsplatz-buchhaltung-{n:02d}")
               for n in range(3)]
    plans = {plan.code: plan for plan in plans_seed()}
    booking_create(actor=admin, customer=customer, plan=plans["mc-standard"], devices=devices)
    return customer, admin, devices


@pytest.fixture
def published_avv(db):
    from django.db import transaction

    from gdpr.services import avv_version_publish
    from tests.gdpr.conftest import draft_version

    with transaction.atomic():
        return avv_version_publish(actor=None, version=draft_version("2026-1"))


def test_customer_admin_pages_fit_phone_and_desktop(live_server, page, shots,
                                                     customer_with_contract, published_avv):
    customer, admin, devices = customer_with_contract
    login(page, live_server.url, admin)
    visit(page, live_server.url, shots, [
        ("customer-dashboard", "/", ()),
        ("customer-devices", "/geraete/", ()),
        ("customer-device", f"/geraete/{devices[0].pk}/", ()),
        ("customer-contract", "/vertrag/",
         ("tbody tr >> text=Entfernen", "tbody tr >> text=Stufe wechseln")),
        ("customer-booking", "/vertrag/buchen/", ("tbody tr a.button",)),
        ("customer-avv", "/datenschutz/", ("button >> text=AVV 2026-1 annehmen",)),
        ("customer-toms", "/datenschutz/toms/", ()),
        ("customer-subprocessors", "/datenschutz/unterauftragsverarbeiter/", ()),
        ("customer-notices", "/datenschutz/mitteilungen/", ()),
        ("customer-dpo", "/datenschutz/datenschutzbeauftragter/", ()),
    ])


def test_partner_support_pages_fit_phone_and_desktop(live_server, page, shots,
                                                      customer_with_contract):
    customer, _admin, devices = customer_with_contract
    partner = OrganisationFactory(kind=OrganisationKind.PARTNER, name="IT-Partner Nord")
    customer.partner = partner
    customer.save(update_fields=["partner"])
    support = make_person(Role.PARTNER_SUPPORT, partner)
    login(page, live_server.url, support)
    visit(page, live_server.url, shots, [
        ("partner-dashboard", "/", ()),
        ("partner-devices", "/geraete/", ()),
        ("partner-contract", f"/vertrag/?customer={customer.pk}", ()),
        ("partner-admin-index", "/admin/", ()),
    ])


def test_provider_admin_pages_fit_phone_and_desktop(live_server, page, shots):
    provider = OrganisationFactory(kind=OrganisationKind.PROVIDER, name="Muster IT-Service GmbH")
    admin = make_person(Role.PROVIDER_ADMIN, provider, first_name="Jonas")
    login(page, live_server.url, admin)
    visit(page, live_server.url, shots, [
        ("provider-dashboard", "/", ("#security-heading",)),
        ("provider-admin-index", "/admin/", ()),
    ])


def test_dpo_audit_and_access_log_fit_phone_and_desktop(live_server, page, shots,
                                                        customer_with_contract, published_avv):
    customer_b, admin_b, _devices = customer_with_contract
    contract_summary_create(actor=admin_b, contract=customer_b.contract, lang="de")
    provider = OrganisationFactory(kind=OrganisationKind.PROVIDER, name="Muster IT-Service GmbH")
    dpo = make_person(Role.DPO, provider, first_name="Petra")
    customer = OrganisationFactory(name="Bäckerei Schröder GmbH")
    person = make_person(Role.CUSTOMER_ADMIN, customer)
    for n in range(5):
        access_log_record(actor=person, method="GET", path=f"/geraete/{n}/?sort=hostname&page=2",
                          view_name="devices:detail", status_code=200, is_download=False,
                          ip="203.0.113.7", user_agent="Mozilla/5.0 (X11; Linux x86_64)")
    login(page, live_server.url, dpo)
    visit(page, live_server.url, shots, [
        ("dpo-dashboard", "/", ("#security-heading",)),
        ("dpo-audit", "/admin/portal/auditevent/", ("#result_list",)),
        ("dpo-access-log", "/admin/portal/accesslogentry/", ("#result_list",)),
        ("dpo-documents", "/admin/portal/document/", ("#result_list",)),
        ("dpo-outbox", "/admin/portal/notification/", ("#result_list",)),
        ("dpo-start", "/admin/", ("#dpo-start",)),
        ("dpo-coverage", "/admin/gdpr/avvacceptance/je-kunde/", ()),
        ("dpo-records", "/admin/gdpr/processingrecord/", ()),
        ("dpo-avv-versions", "/admin/gdpr/avvversion/", ("#result_list",)),
    ])
