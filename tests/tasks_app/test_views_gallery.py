"""The template gallery (dashboard.md §12, checklist 143)."""

from __future__ import annotations

from django.urls import reverse

from tasks_app.gallery import CATEGORIES, TEMPLATES


def _url(personas) -> str:
    return reverse("task_gallery", args=[personas.project.pk])


def test_the_gallery_lists_every_template_by_category(personas, as_user):
    page = as_user("viewer").get(_url(personas))
    assert page.status_code == 200
    for template in TEMPLATES:
        assert f'id="template-{template.slug}"' in page.text
    positions = [
        page.text.index(f">{name.replace('&', '&amp;')} <") for name in CATEGORIES
    ]
    assert positions == sorted(positions)


def test_search_and_category_filter_over_htmx(personas, as_user):
    fragment = as_user("viewer").get(
        _url(personas) + "?q=invoice",
        headers={"HX-Request": "true", "HX-Target": "gallery-results"},
    )
    assert "<html" not in fragment.text
    assert 'id="template-invoice-extractor"' in fragment.text
    assert 'id="template-code-reviewer"' not in fragment.text
    by_category = as_user("viewer").get(_url(personas) + "?category=Tech+%26+data")
    assert 'id="template-code-reviewer"' in by_category.text
    assert 'id="template-invoice-extractor"' not in by_category.text
    none = as_user("viewer").get(_url(personas) + "?q=zzzz")
    assert "No template matches" in none.text


def test_use_template_opens_create_prefilled_for_editors_only(personas, as_user):
    link = (
        reverse("task_create", args=[personas.project.pk])
        + "?template=invoice-extractor"
    )
    assert link in as_user("editor").get(_url(personas)).text
    assert link not in as_user("viewer").get(_url(personas)).text
    page = as_user("editor").get(link)
    assert 'id="input-invoice_document"' in page.text
    assert '<option value="document_content_extractor" selected>' in page.text
    assert "line_items" in page.text


def test_outsiders_get_404(personas, as_user):
    assert as_user("outsider").get(_url(personas)).status_code == 404


def test_the_gallery_costs_a_fixed_number_of_queries(
    personas, as_user, django_assert_num_queries
):
    client = as_user("viewer")
    client.get(_url(personas))
    # 1 session, 2 user, 3 project with role, 4-5 the switcher.
    with django_assert_num_queries(5):
        client.get(_url(personas))
