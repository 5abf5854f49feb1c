"""The bare address `/`: a newcomer's first page."""
from __future__ import annotations

from tests.factories import make_org


def test_development_lists_each_organization_and_how_to_get_demo_links(app, client):
    make_org("acme", "Acme Analytics")
    make_org("initech", "Initech")
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<a href="/acme/login">Acme Analytics</a>' in html
    assert '<a href="/initech/login">Initech</a>' in html
    assert "flask --app wsgi demo" in html


def test_development_without_organizations_says_so(client):
    html = client.get("/").get_data(as_text=True)
    assert "There is no organization yet." in html


def test_production_names_no_organization(app, client):
    make_org("acme", "Acme Analytics")
    app.config["PORTAL_ENV"] = "production"
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Acme Analytics" not in html and "/acme/" not in html and "demo" not in html
    assert "To sign in, use the link" in html
