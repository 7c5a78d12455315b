"""Templates translate with the page's catalogue, escaping what is put into the strings."""

from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale, get_translations

from app.templating import page_translations


def test_values_put_into_translated_strings_are_escaped(app):
    with app.test_request_context("/"):
        page = render_template_string(
            "{{ _('Hello %(name)s, you need %(mark)s%% to pass.', name=name, mark=75) }} "
            "{{ ngettext('%(num)d problem', '%(num)d problems', 2) }}",
            name="<script>alert(1)</script>",
        )
    assert page == ("Hello &lt;script&gt;alert(1)&lt;/script&gt;, you need 75% to pass. 2 problems")


def test_the_catalogue_follows_a_language_forced_for_a_while(app):
    with app.test_request_context("/"):
        page = page_translations()
        assert page is get_translations() and page_translations() is page
        with force_locale("fr"):
            assert page_translations() is get_translations() is not page
        assert page_translations() is page
