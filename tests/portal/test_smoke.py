from django.urls import reverse


def test_dashboard_for_verified_customer_admin(world, verified_client):
    client = verified_client(world["people"]["customer_admin"])
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 200
    assert "Kunde A" in response.content.decode()


def test_admin_for_partner_support(world, verified_client):
    client = verified_client(world["people"]["partner_support"])
    response = client.get(reverse("admin:portal_organisation_changelist"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Kunde A" in body and "Kunde B" not in body
