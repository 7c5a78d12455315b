"""Templates translate with the page's catalogue, and render pieces of content only once."""

from __future__ import annotations

from flask import render_template_string, template_rendered
from flask_babel import force_locale, get_translations

from app.templating import page_translations
from tests.fixtures import load_revised_modules


def test_values_put_into_translated_strings_are_escaped(app):
    with app.test_request_context("/"):
        page = render_template_string(
            "{{ _('Hello %(name)s, you need %(mark)s%% to pass.', name=name, mark=75) }} "
            "{{ ngettext('%(num)d problem', '%(num)d problems', 2) }}",
            name="<script>alert(1)</script>",
        )
    assert page == ("Hello &lt;script&gt;alert(1)&lt;/script&gt;, you need 75% to pass. 2 problems")


class Marked:
    """A catalogue that marks each string with its language, to see which one translated."""

    def __init__(self, language: str) -> None:
        self.language = language

    def ugettext(self, string: str) -> str:
        return f"[{self.language}] {string}"

    def ungettext(self, singular: str, plural: str, num: int) -> str:
        return self.ugettext(singular if num == 1 else plural)

    def upgettext(self, context: str, string: str) -> str:
        return self.ugettext(f"{context}|{string}")

    def unpgettext(self, context: str, singular: str, plural: str, num: int) -> str:
        return self.upgettext(context, singular if num == 1 else plural)


def test_each_rendering_speaks_the_language_of_its_moment(app, monkeypatch):
    from app import templating

    monkeypatch.setattr(
        templating, "get_translations", lambda: Marked(str(templating.get_locale()))
    )
    template = (
        "{{ _('Hello') }} {{ _('100%% sure') }} {{ ngettext('%(num)d day', '%(num)d days', 1) }}"
        " {{ pgettext('menu', 'Open') }} {{ npgettext('menu', 'Item', 'Items', 3) }}"
    )
    with app.test_request_context("/"):
        assert render_template_string(template) == (
            "[en] Hello [en] 100% sure [en] 1 day [en] menu|Open [en] menu|Items"
        )
        with force_locale("fr"):
            assert render_template_string("{{ _('Hello') }}") == "[fr] Hello"
        assert render_template_string("{{ _('Hello') }}") == "[en] Hello"


def test_the_catalogue_follows_a_language_forced_for_a_while(app):
    with app.test_request_context("/"):
        page = page_translations()
        assert page is get_translations() and page_translations() is page
        with force_locale("fr"):
            assert page_translations() is get_translations() is not page
        assert page_translations() is page


def rendered_templates(app, client, url, **headers):
    """Return the templates rendered on their own (not included) for one page."""
    names: list[str] = []

    def record(_sender, template, context, **_extra):
        names.append(template.name)

    with template_rendered.connected_to(record, app):
        assert client.get(url, headers=headers).status_code == 200
    return names


def test_the_sources_a_module_cites_are_rendered_once_per_language_and_version(
    app, client, db, modules, make_user, login, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "LANGUAGES", ["en", "fr"])
    login(make_user())
    assert "learner/_sources.html" in rendered_templates(app, client, "/training/basics/all")
    assert rendered_templates(app, client, "/training/basics/all") == ["learner/whole_module.html"]
    french = rendered_templates(app, client, "/training/basics/all", **{"Accept-Language": "fr"})
    assert "learner/_sources.html" in french

    load_revised_modules(tmp_path / "revised")
    assert "learner/_sources.html" in rendered_templates(app, client, "/training/basics/all")
