"""Whatever an address holds, every page answers with a page, never a server error.

Filter forms are submitted as a browser submits them (empty fields included), and odd
values (superscript digits, digits of other scripts, ids past 2⁶³, NUL) are thrown at
every parameter of every page, in the path and in the query string.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

import pytest

from app.models import Role
from app.models.types import utcnow
from app.services import classroom, quiz, training
from tests.fixtures import pass_module

HOSTILE = ["²", "³", "٣", "-1", "0", str(2**63), str(2**64), "9" * 40, "1.5", "x", "\x00"]
# What each page reads from its query string (the filters and the pagination).
FILTERS = ["unit", "category", "module", "status", "page", "after", "before"]
HEADQUARTERS = ["by", "mission", "category", "module"]
QUERY = {
    "coordinator.index": FILTERS,
    "coordinator.people": FILTERS,
    "coordinator.unit": FILTERS,
    "coordinator.export": FILTERS,
    "headquarters.index": HEADQUARTERS,
    "headquarters.export": HEADQUARTERS,
    "commander.unit": ["status"],
    "commander.print_records": ["unit", "show", "tick"],
    "admin.audit_trail": ["action", "actor", "from", "to", "page", "verify"],
    "admin.users": ["q", "page"],
    "admin.certificates_lookup": ["code"],
    "auth.login": ["next"],
    "public.verify_form": ["code"],
    "public.verify_set": ["codes", "s"],
    "public.verify": ["s"],
    "classroom.index": ["when", "page"],
    "classroom.schedule": ["unit", "module", "within", "category", "q", "person"],
    "classroom.add_participants": ["within", "category", "q", "person"],
}
EVERY_NAME = sorted({name for names in QUERY.values() for name in names})
# Files that read no query string; rendering each takes a while.
NO_QUERY = {"learner.record_pdf", "learner.certificate_pdf", "commander.record", "static"}


class Forms(HTMLParser):
    """The GET forms of a page, with each field as a browser would first submit it."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []
        self.select: dict[str, object] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "get").lower() == "get":
            self.forms.append({"action": a.get("action") or "", "fields": [], "options": {}})
        elif not self.forms or self.forms[-1].get("closed"):
            return
        form = self.forms[-1]
        fields: list[tuple[str, str]] = form["fields"]  # type: ignore[assignment]
        options: dict[str, list[str]] = form["options"]  # type: ignore[assignment]
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "checkbox"):
            fields.append((a["name"], a.get("value") or ""))  # type: ignore[arg-type]
        elif tag == "select" and a.get("name"):
            self.select = {"name": a["name"], "chosen": None, "first": None}
            options[a["name"]] = []  # type: ignore[index]
        elif tag == "option" and self.select is not None:
            value = a.get("value") or ""
            options[self.select["name"]].append(value)  # type: ignore[index]
            if self.select["first"] is None:
                self.select["first"] = value
            if "selected" in a:
                self.select["chosen"] = value

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self.select is not None:
            chosen = self.select["chosen"] if self.select["chosen"] is not None else None
            value = chosen if chosen is not None else self.select["first"]
            self.forms[-1]["fields"].append((self.select["name"], value or ""))  # type: ignore[union-attr]
            self.select = None
        elif tag == "form" and self.forms:
            self.forms[-1]["closed"] = True


def get_forms(html: str) -> list[dict[str, object]]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


@pytest.fixture
def site(db, unit, modules, make_user):
    """A unit with a trained peacekeeper, an open quiz attempt, and its staff."""
    person = make_user(full_name="Amina Haddad")
    certificate = pass_module(person)
    attempt = quiz.start_attempt(person, training.current_version("basics"))
    db.session.commit()
    staff = {
        role: make_user(role, unit=None, assigned_units=[unit])
        for role in (
            Role.COORDINATOR,
            Role.COMMANDER,
            Role.HEADQUARTERS,
            Role.ADMIN,
            Role.FACILITATOR,
        )
    }
    session = classroom.schedule(
        staff[Role.COORDINATOR],
        unit,
        utcnow().date() + timedelta(days=7),
        "Training centre",
        [training.current_version("basics")],
        [staff[Role.FACILITATOR]],
        [make_user(full_name="Kwame Boateng")],
    )
    db.session.commit()
    return {"unit": unit, "person": person, "certificate": certificate, "attempt": attempt,
            "staff": staff, "session": session}  # fmt: skip


FILTER_PAGES = {
    Role.COORDINATOR: ["/coordinator/", "/coordinator/people", "/coordinator/units/{unit}"],
    Role.COMMANDER: ["/commander/print?unit={unit}"],
    Role.HEADQUARTERS: ["/headquarters/", "/headquarters/?by=unit"],
    Role.ADMIN: [
        "/admin/audit",
        "/admin/users",
        "/admin/certificates",
        "/coordinator/",
        "/headquarters/",
    ],
}


@pytest.mark.parametrize("role", list(FILTER_PAGES))
def test_every_filter_form_applies_as_a_browser_submits_it(client, site, login, role):
    login(site["staff"][role])
    for template in FILTER_PAGES[role]:
        page_url = template.format(unit=site["unit"].id)
        page = client.get(page_url)
        assert page.status_code == 200, page_url
        forms = get_forms(page.get_data(as_text=True))
        assert forms, f"no filter form on {page_url}"
        for form in forms:
            action = urljoin(page_url, str(form["action"]) or urlsplit(page_url).path)
            fields: list[tuple[str, str]] = form["fields"]  # type: ignore[assignment]
            submissions = [fields]
            # Then each choice of each list, the others left as they are.
            for name, values in form["options"].items():  # type: ignore[attr-defined]
                for value in values:
                    submissions.append([(n, value if n == name else v) for n, v in fields])
            for submitted in submissions:
                url = f"{action}?{urlencode(submitted)}"
                response = client.get(url)
                assert response.status_code == 200, url


def test_dashboard_links_keep_the_filters_and_choose_the_status(client, site, login):
    login(site["staff"][Role.COORDINATOR])
    response = client.get("/coordinator/?status=overdue&category=&unit=&module=&report=x")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'href="/coordinator/people?status=expiring"' in page
    assert "/coordinator/export/matrix.csv?status=overdue" in page
    # The junk is not carried into any link (the language form returns to the page as asked).
    assert not re.search(r'href="[^"]*report=x', page)


def valid_path_values(site) -> dict[str, object]:
    return {
        "unit_id": site["unit"].id,
        "user_id": site["person"].id,
        "attempt_id": site["attempt"].id,
        "code": site["certificate"].code,
        "slug": "basics",
        "number": 1,
        "token": "unknown",
        "report": "people",
        "fmt": "csv",
        "session_id": site["session"].id,
    }


def get_routes(app):
    # The application's own pages: other tests add routes of their own to the shared app.
    return [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and not app.view_functions[rule.endpoint].__module__.startswith("tests")
    ]


def build(rule, values: dict[str, object]) -> str:
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<int:{name}>", str(values[name])).replace(
            f"<{name}>", str(values[name])
        )
    return path


def test_odd_values_in_any_query_parameter_answer_a_page_not_an_error(app, client, site, login):
    login(site["staff"][Role.ADMIN])
    values = valid_path_values(site)
    routes = {rule.endpoint: rule for rule in get_routes(app)}
    assert set(QUERY) <= set(routes)
    for endpoint, rule in routes.items():
        if endpoint in NO_QUERY:
            continue
        path = build(rule, values)
        asked = [{name: value} for name in QUERY.get(endpoint, []) for value in HOSTILE]
        # Any page, whatever it reads, with every name the site knows at once.
        asked += [dict.fromkeys(EVERY_NAME, value) for value in ("²", str(2**63), "\x00")]
        for query in asked:
            url = f"{path}?{urlencode(query)}"
            assert client.get(url).status_code < 500, url


@pytest.mark.parametrize("who", list(Role))
def test_ids_in_addresses_that_no_record_can_have_answer_404(app, client, site, login, who):
    login(site["person"] if who == Role.PEACEKEEPER else site["staff"][who])
    valid = valid_path_values(site)
    for rule in get_routes(app):
        numbers = [name for name in rule.arguments if f"<int:{name}>" in rule.rule]
        for name in numbers:
            for value in HOSTILE:
                url = build(rule, {**valid, name: value})
                response = client.get(url)
                assert response.status_code in (403, 404), url
                # The same for forms posted to such an address.
                if "POST" in rule.methods:
                    assert client.post(url).status_code in (400, 403, 404, 405), url


@pytest.mark.parametrize("who", list(Role))
def test_text_in_addresses_holding_a_nul_answers_404(app, client, site, login, who):
    login(site["person"] if who == Role.PEACEKEEPER else site["staff"][who])
    valid = valid_path_values(site)
    for rule in get_routes(app):
        texts = [name for name in rule.arguments if f"<int:{name}>" not in rule.rule]
        for name in texts:
            url = build(rule, {**valid, name: "x%00y"})
            assert client.get(url).status_code in (403, 404), url


def test_page_numbers_past_the_databases_integers_answer_404(client, site, login):
    login(site["staff"][Role.ADMIN])
    for path in ("/coordinator/people", "/admin/users", "/admin/audit"):
        assert client.get(f"{path}?page={2**63 // 50 + 2}").status_code == 404
        assert client.get(f"{path}?page=").status_code == 200
    for path in ("/admin/users", "/admin/audit"):
        assert client.get(f"{path}?page=2").status_code == 200
    # Lists of people go from page to page by the place their links carry: a number
    # alone can only be the first page.
    assert client.get("/coordinator/people?page=1").status_code == 200
    assert client.get("/coordinator/people?page=2").status_code == 404


def test_commander_print_form_with_odd_ids_is_sent_back_not_an_error(client, site, login):
    from tests.fixtures import post

    login(site["staff"][Role.COMMANDER])
    for value in HOSTILE:
        response = post(client, "/commander/print",
                        {"unit": site["unit"].id, "people": value, "output": "pdf"})  # fmt: skip
        assert response.status_code == 422, value
        response = post(client, "/commander/print", {"unit": value, "people": site["person"].id})
        assert response.status_code == 404, value


def test_audit_dates_that_are_not_dates_are_named_not_ignored(client, site, login):
    login(site["staff"][Role.ADMIN])
    response = client.get("/admin/audit?from=01/12/2026&to=9999-12-31")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Write the date as YYYY-MM-DD" in page and 'aria-invalid="true"' in page
    assert client.get("/admin/audit?from=2026-12-01&to=9999-12-31").status_code == 200
