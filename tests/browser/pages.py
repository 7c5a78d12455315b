"""Every kind of page of the site, and how a person reaches it.

The accessibility tests run axe-core on each, in English and in Arabic; the no-JavaScript
tests open each in a browser with JavaScript turned off. A visit uses forms the way a
person does, so the pages behind a form (errors, previews, results) are reached the same
way in all of them. A visit finds what it clicks by the words on the page, asked of
`site.t` in the visit's language, so that it works whatever language the page is in.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyotp
from flask_babel import force_locale, gettext, ngettext
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import User
from app.services import accounts
from config import ROOT
from tests.browser.helpers import (
    PASSWORD,
    LiveServer,
    Person,
    answer_quiz,
    certificate_code,
    start_quiz,
    unit_id,
    user_id,
)

ROSTER_EXAMPLE = ROOT / "docs" / "roster-example.csv"
ROSTER_HEADER = "service_number,full_name,category,unit,position,email,deployment_date\n"
UNKNOWN_CODE = "ABCD-EFGH-IJKL-MNOP"
PRINT_PAGE = re.compile(r"/commander/print\?unit=\d+$")


@dataclass(frozen=True)
class Site:
    """What a visit needs besides the page: the server, new people, and the page's words."""

    server: LiveServer
    make_person: Callable[..., Person]
    files: Path
    language: str = "en"

    def t(self, text: str, **values: object) -> str:
        """Return an interface text as the pages write it in the visit's language."""
        with self.server.app.test_request_context(), force_locale(self.language):
            return str(gettext(text, **values))

    def plural(self, singular: str, plural: str, num: int, **values: object) -> str:
        """Return an interface text that depends on a number, as the pages write it."""
        with self.server.app.test_request_context(), force_locale(self.language):
            return str(ngettext(singular, plural, num, **values))

    def like(self, text: str, plural: str | None = None) -> re.Pattern[str]:
        """Return a pattern for an interface text, whatever fills its placeholders."""
        with self.server.app.test_request_context(), force_locale(self.language):
            forms = {
                str(ngettext(text, plural, n) if plural else gettext(text))
                for n in (0, 1, 2, 3, 11, 100)
            }
        return re.compile("|".join(f"^{pattern(form)}$" for form in sorted(forms)))


def pattern(text: str) -> str:
    """Return a format string as a regular expression, any text in place of a placeholder."""
    parts = re.split(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]", text)
    return ".+".join(re.escape(part.replace("%%", "%")) for part in parts)


@dataclass(frozen=True)
class Visit:
    """A kind of page: who looks at it, how they get there, and its main heading."""

    name: str
    who: str | None  # a demo account, "learner" for a new peacekeeper, None: nobody
    go: Callable[[Page, Site], None]
    heading: str | re.Pattern[str]

    def __str__(self) -> str:
        return self.name


def goto(path: str) -> Callable[[Page, Site], None]:
    """Return a visit that opens an address."""

    def go(page: Page, site: Site) -> None:
        page.goto(path)

    return go


# Anyone ---------------------------------------------------------------------------------


def sign_in_with_errors(page: Page, site: Site) -> None:
    page.goto("/login")
    page.get_by_role("button", name=site.t("Sign in")).click()
    expect(page.get_by_text(site.t("Enter your username."))).to_be_visible()
    expect(page.get_by_label(site.t("Username or service number"))).to_have_attribute(
        "aria-invalid", "true"
    )


def sign_in_refused(page: Page, site: Site) -> None:
    page.goto("/login")
    page.get_by_label(site.t("Username or service number")).fill("peacekeeper")
    page.get_by_label(site.t("Password"), exact=True).fill("not the password")
    page.get_by_role("button", name=site.t("Sign in")).click()
    expect(page.get_by_role("alert")).to_have_text(
        site.t("The username or password is not right. Check them and try again.")
    )


def verify_valid(page: Page, site: Site) -> None:
    page.goto(f"/verify/{certificate_code(site.server, 'Kiran Gurung')}")
    expect(page.get_by_role("status").first).to_have_text(site.t("Valid"))


def verify_expired(page: Page, site: Site) -> None:
    page.goto(f"/verify/{certificate_code(site.server, 'Prakash Shrestha', valid=False)}")
    expect(page.get_by_role("status").first).to_have_text(site.t("Expired"))


def verify_unknown(page: Page, site: Site) -> None:
    page.goto(f"/verify/{UNKNOWN_CODE}")
    expect(page.get_by_role("status").first).to_have_text(site.t("Unknown certificate"))


def verify_typed_code(page: Page, site: Site) -> None:
    page.goto("/verify")
    code = certificate_code(site.server, "Dawa Lama").lower()
    page.get_by_label(site.t("Certificate code")).fill(code)
    page.get_by_role("button", name=site.t("Verify")).click()
    expect(page.get_by_role("status").first).to_have_text(site.t("Valid"))


def verify_several(page: Page, site: Site) -> None:
    code = certificate_code(site.server, "Fatou Ndiaye")
    page.goto(f"/verify/set?codes={code},{UNKNOWN_CODE}")
    expect(page.get_by_role("table")).to_contain_text("Fatou Ndiaye")
    expect(page.get_by_role("table")).to_contain_text(site.t("Unknown certificate"))


def set_password_token(site: Site) -> tuple[Person, str]:
    """Return a new person without a password and the token of their set-password link."""
    person = site.make_person(password=None)
    with site.server.data():
        user = db.session.get(User, person.id)
        assert user is not None
        return person, accounts.set_password_token(user.id, user.session_token)


def open_set_password_link(page: Page, site: Site, token: str) -> None:
    """Open the set-password page and give it the code after the link's #, as without script."""
    page.goto("/set-password")
    page.get_by_label(site.t("Code from your link")).fill(token)
    page.get_by_role("button", name=site.t("Continue")).click()


def set_password(page: Page, site: Site) -> None:
    person, token = set_password_token(site)
    open_set_password_link(page, site, token)
    expect(page.get_by_text(person.service_number)).to_be_visible()


def set_password_with_errors(page: Page, site: Site) -> None:
    _person, token = set_password_token(site)
    open_set_password_link(page, site, token)
    page.get_by_label(site.t("New password"), exact=True).fill("short")
    page.get_by_label(site.t("New password again")).fill("different")
    page.get_by_role("button", name=site.t("Set my password")).click()
    expect(page.get_by_label(site.t("New password"), exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.get_by_text(site.t("The two passwords are not the same."))).to_be_visible()


def set_password_bad_link(page: Page, site: Site) -> None:
    open_set_password_link(page, site, "not-a-real-link")
    expect(page.get_by_role("alert")).to_have_text(
        site.t(
            "This link cannot be used: it has expired, it has already been used, or it was "
            "copied incompletely."
        )
    )


def sign_in_code(page: Page, site: Site) -> None:
    person = site.make_person(totp_secret=pyotp.random_base32())
    enter_password(page, site, person)
    expect(page.get_by_label(site.t("Six-digit code from your authenticator app"))).to_be_visible()


def enter_password(page: Page, site: Site, person: Person) -> None:
    """Give a person's username and password to the sign-in form."""
    page.goto("/login")
    page.get_by_label(site.t("Username or service number")).fill(person.username)
    page.get_by_label(site.t("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=site.t("Sign in")).click()


def signed_in_with_code(page: Page, site: Site) -> None:
    """Sign in a new person who has a second factor, code included."""
    secret = pyotp.random_base32()
    person = site.make_person(totp_secret=secret)
    enter_password(page, site, person)
    code = page.get_by_label(site.t("Six-digit code from your authenticator app"))
    code.fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=site.t("Continue")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(site.t("My training"))


def second_factor_replace(page: Page, site: Site) -> None:
    signed_in_with_code(page, site)
    page.goto("/account/second-factor")


def second_factor_off(page: Page, site: Site) -> None:
    signed_in_with_code(page, site)
    page.goto("/account/second-factor/remove")


def sign_in_code_refused(page: Page, site: Site) -> None:
    sign_in_code(page, site)
    code = page.get_by_label(site.t("Six-digit code from your authenticator app"))
    code.fill("12345678")
    page.get_by_role("button", name=site.t("Continue")).click()
    expect(code).to_have_attribute("aria-invalid", "true")


def account_with_errors(page: Page, site: Site) -> None:
    page.goto("/account")
    page.get_by_role("button", name=site.t("Change my password")).click()
    expect(page.get_by_text(site.t("Enter your current password."))).to_be_visible()


# Peacekeepers ---------------------------------------------------------------------------


def read_two_sections(page: Page, site: Site, slug: str) -> None:
    """Read a module's first two sections with its buttons, and come back to its page."""
    page.goto(f"/training/{slug}")
    page.get_by_role("button", name=site.t("Start reading")).click()
    page.get_by_role("button", name=site.t("Next section")).click()
    page.goto(f"/training/{slug}")
    expect(page.get_by_role("link", name=site.t("Continue reading"))).to_be_visible()


def reading_started(page: Page, site: Site) -> None:
    read_two_sections(page, site, "reporting")


def quiz_saved(page: Page, site: Site) -> None:
    start_quiz(page, "reporting", site.t)
    page.locator("fieldset input").first.check()
    page.get_by_role("button", name=site.t("Save and continue later")).click()
    expect(page.locator("fieldset input").first).to_be_checked()


def plan_in_progress(page: Page, site: Site) -> None:
    """My training with one module being read and another's quiz started."""
    read_two_sections(page, site, "zero-tolerance")
    quiz_saved(page, site)
    page.goto("/training/")
    expect(page.get_by_role("link", name=site.t("Continue reading"))).to_be_visible()
    expect(page.get_by_role("link", name=site.t("Continue the quiz"))).to_be_visible()


def quiz_page(page: Page, site: Site) -> None:
    start_quiz(page, "reporting", site.t)
    expect(page.locator("fieldset")).to_have_count(10)


def quiz_with_errors(page: Page, site: Site) -> None:
    start_quiz(page, "reporting", site.t)
    page.get_by_role("button", name=site.t("Submit my answers")).click()
    expect(page.get_by_role("alert")).to_contain_text(
        site.t("Choose an answer to question %(number)s.", number=1)
    )
    expect(page.locator("p.error")).to_have_count(10)


def result_passed(page: Page, site: Site) -> None:
    start_quiz(page, "zero-tolerance", site.t)
    answer_quiz(page, site.server)
    page.get_by_role("button", name=site.t("Submit my answers")).click()
    expect(page.get_by_role("status")).to_have_text(
        site.t("You passed with %(score)s%%.", score=100)
    )


def result_failed(page: Page, site: Site) -> None:
    start_quiz(page, "reporting", site.t)
    answer_quiz(page, site.server, correct=False)
    page.get_by_role("button", name=site.t("Submit my answers")).click()
    scored = (
        "You scored %(score)s%%. You need %(mark)s%% to pass. Read the feedback, then try again."
    )
    expect(page.get_by_role("status")).to_contain_text(site.t(scored, score=0, mark=80))
    expect(page.get_by_role("button", name=site.t("Try again"))).to_be_visible()


# Coordinators ---------------------------------------------------------------------------


def coordinator_unit(page: Page, site: Site) -> None:
    page.goto(f"/coordinator/units/{unit_id(site.server, 'DEMO-INF-1')}")


def coordinator_person(page: Page, site: Site) -> None:
    page.goto(f"/coordinator/people/{user_id(site.server, 'Kiran Gurung')}")


def new_set_password_link(page: Page, site: Site) -> None:
    coordinator_person(page, site)
    page.get_by_text(site.t("Forgotten password: issue a new set-password link")).click()
    page.get_by_role("button", name=site.like("Issue a new set-password link for %(name)s")).click()


def upload(page: Page, path: Path, site: Site) -> None:
    """Upload a roster file through the import form."""
    page.goto("/coordinator/roster")
    page.get_by_label(site.t("Roster file (XLSX, ODS or CSV)")).set_input_files(path)
    page.get_by_role("button", name=site.t("Upload and preview")).click()


def roster_upload_without_file(page: Page, site: Site) -> None:
    page.goto("/coordinator/roster")
    page.get_by_role("button", name=site.t("Upload and preview")).click()
    expect(page.get_by_text(site.t("Choose the roster file to upload."))).to_be_visible()


def roster_preview(page: Page, site: Site) -> None:
    upload(page, ROSTER_EXAMPLE, site)
    expect(page.get_by_role("button", name=site.t("Confirm import"))).to_be_visible()


def roster_preview_with_problems(page: Page, site: Site) -> None:
    path = site.files / "roster-with-problems.csv"
    path.write_text(
        ROSTER_HEADER + "BR-90001,Rosa Mendes,military_contingent,DEMO-INF-1,,,31/12/2026\n",
        encoding="utf-8",
    )
    upload(page, path, site)
    problems = site.plural("%(num)d problem to fix", "%(num)d problems to fix", 1)
    expect(page.get_by_role("heading", name=problems)).to_be_visible()
    where = site.t("row %(row)s, column %(column)s: %(message)s", row=2, column="deployment_date",
                   message="")  # fmt: skip
    expect(page.get_by_text(where.strip())).to_be_visible()


_roster_numbers = itertools.count(1)


def roster_imported(page: Page, site: Site) -> None:
    number = next(_roster_numbers)
    path = site.files / f"roster-{number}.csv"
    path.write_text(
        ROSTER_HEADER
        + f"BR-8{number:04d},Rosa Mendes {number},formed_police,DEMO-FPU-2,,,2026-06-01\n",
        encoding="utf-8",
    )
    upload(page, path, site)
    page.get_by_role("button", name=site.t("Confirm import")).click()
    done = "%(created)s new people, %(updated)s updated, %(unchanged)s unchanged."
    expect(page.get_by_role("status")).to_have_text(site.t(done, created=1, updated=0, unchanged=0))


# Administrators -------------------------------------------------------------------------


def admin_account(page: Page, site: Site) -> None:
    page.goto(f"/admin/users/{user_id(site.server, 'Kiran Gurung')}")


def admin_certificate(page: Page, site: Site) -> None:
    page.goto(f"/admin/certificates?code={certificate_code(site.server, 'Ibrahima Faye')}")
    revoke = site.like("Revoke certificate %(code)s")
    expect(page.get_by_role("button", name=revoke)).to_be_visible()


def admin_certificate_search(page: Page, site: Site) -> None:
    page.goto("/admin/certificates")
    page.get_by_label(site.t("Certificate code, holder's name or service number")).fill(
        "Ibrahima Faye"
    )
    page.get_by_role("button", name=site.t("Look up")).click()
    expect(page.get_by_role("link", name=re.compile(r"^[A-Z0-9]{4}-")).first).to_be_visible()


def admin_revoke_confirmation(page: Page, site: Site) -> None:
    admin_certificate(page, site)
    reason = site.like(
        "Reason (%(min)s to %(max)s characters), for example a misconduct finding or an error"
    )
    page.get_by_label(reason).fill("Recorded in error by the training cell.")
    page.get_by_role("button", name=site.like("Revoke certificate %(code)s")).click()
    # Asked, not done: the demo certificate stays valid.
    yes = site.like("Yes, revoke certificate %(code)s")
    expect(page.get_by_role("button", name=yes)).to_be_visible()


# Commanders -----------------------------------------------------------------------------


def commander_unit(page: Page, site: Site) -> None:
    page.goto(f"/commander/units/{unit_id(site.server, 'DEMO-INF-1')}")


def print_page(page: Page, site: Site) -> None:
    page.goto(f"/commander/print?unit={unit_id(site.server, 'DEMO-INF-1')}")


def print_ready_ticked(page: Page, site: Site) -> None:
    print_page(page, site)
    page.get_by_label(site.t("Show"), exact=True).select_option("ready")
    page.get_by_role("button", name=site.t("Show"), exact=True).click()
    page.get_by_role("link", name=site.like("Tick everyone listed (%(n)s)")).click()
    ready = site.like("Print all Ready (%(num)s person)", "Print all Ready (%(num)s people)")
    expect(page.get_by_role("button", name=ready)).to_be_visible()


def print_with_errors(page: Page, site: Site) -> None:
    print_page(page, site)
    page.get_by_role("button", name=site.t("Print selected")).click()
    expect(page.locator("p.error")).to_be_visible()


def print_status(page: Page, site: Site) -> None:
    print_page(page, site)
    page.get_by_role("checkbox", name=re.compile("Dawa Lama")).check()
    page.get_by_role("button", name=site.t("Print selected")).click()
    # The page reloads itself until the file is ready, then stays.
    download = page.get_by_role("link", name=site.like("Download %(name)s"))
    expect(download).to_be_visible(timeout=120_000)


# Sessions -------------------------------------------------------------------------------


def schedule_people(page: Page, site: Site) -> None:
    """Choose Infantry Battalion 1 and a module at step 1 of scheduling a session."""
    page.goto("/sessions/new")
    page.get_by_label(site.t("Unit")).select_option(label="Infantry Battalion 1 (DEMO-INF-1)")
    # The modules are listed by title: the last, zero tolerance, is everyone's.
    page.get_by_role("checkbox").last.check()
    page.get_by_role("button", name=site.t("Continue: date, place and people")).click()
    expect(page.get_by_role("button", name=site.t("Schedule the session"))).to_be_visible()


def schedule_with_errors(page: Page, site: Site) -> None:
    schedule_people(page, site)
    page.get_by_role("button", name=site.t("Schedule the session")).click()
    expect(page.get_by_text(site.t("Give the session's date."))).to_be_visible()


def session_scheduled(page: Page, site: Site) -> None:
    """Schedule a session for a new person through the form; end on the session's page."""
    person = site.make_person()
    schedule_people(page, site)
    page.get_by_label(site.t("Date")).fill("2030-06-01")
    page.get_by_label(site.t("Place")).fill("Birendra Peace Operations Training Centre")
    page.get_by_label(site.t("Name or service number")).fill(person.service_number)
    page.get_by_role("button", name=site.t("Show"), exact=True).click()
    page.get_by_role("checkbox", name=re.compile(re.escape(person.full_name))).check()
    page.get_by_role("button", name=site.t("Schedule the session")).click()
    expect(page.get_by_role("cell", name=person.service_number)).to_be_visible()


def session_cancel(page: Page, site: Site) -> None:
    session_scheduled(page, site)
    page.get_by_role("link", name=site.t("Cancel the session")).click()


def session_add_people(page: Page, site: Site) -> None:
    session_scheduled(page, site)
    page.get_by_role("link", name=site.t("Add participants")).click()


def session_pack_printed(page: Page, site: Site) -> None:
    """Print a new session's pack; end on its job's page once the file is ready."""
    session_scheduled(page, site)
    page.get_by_role("button", name=site.t("Print the session pack")).click()
    # The page reloads itself until the pack is printed, then offers it.
    download = page.get_by_role("link", name=site.like("Download %(name)s"))
    expect(download).to_be_visible(timeout=120_000)


VISITS = [
    Visit("sign-in", None, goto("/login"), "Sign in"),
    Visit("sign-in with errors", None, sign_in_with_errors, "Sign in"),
    Visit("sign-in refused", None, sign_in_refused, "Sign in"),
    Visit("forgot password", None, goto("/forgot-password"), "Forgot your password?"),
    Visit("verify form", None, goto("/verify"), "Verify a certificate"),
    Visit("verify typed code", None, verify_typed_code, "Certificate verification"),
    Visit("verify valid", None, verify_valid, "Certificate verification"),
    Visit("verify expired", None, verify_expired, "Certificate verification"),
    Visit("verify unknown", None, verify_unknown, "Certificate verification"),
    Visit("verify several", None, verify_several, "Certificate verification"),
    Visit("not found", None, goto("/no-such-page"), "Not Found"),
    Visit("set password", None, set_password, "Set your password"),
    Visit("set password with errors", None, set_password_with_errors, "Set your password"),
    Visit("set password bad link", None, set_password_bad_link, "Set your password"),
    Visit("sign-in code", None, sign_in_code, "Enter your code"),
    Visit("sign-in code refused", None, sign_in_code_refused, "Enter your code"),
    Visit("second factor replace", None, second_factor_replace, "Replace my second factor"),
    Visit("second factor off", None, second_factor_off, "Turn off my second factor"),
    Visit("my training", "learner", goto("/training/"), "My training"),
    Visit("account", "learner", goto("/account"), "My account"),
    Visit("account with errors", "learner", account_with_errors, "My account"),
    Visit(
        "second factor set-up", "learner", goto("/account/second-factor"), "Set up a second factor"
    ),
    Visit(
        "module",
        "learner",
        goto("/training/duty-of-care"),
        "Standards of conduct and the peacekeeper's duty of care",
    ),
    Visit(
        "module section",
        "learner",
        goto("/training/reporting/sections/3"),
        "Immediate danger comes first",
    ),
    Visit("whole module", "learner", goto("/training/reporting/all"), "Reporting obligations"),
    Visit("module in progress", "learner", reading_started, "Reporting obligations"),
    Visit("my training in progress", "learner", plan_in_progress, "My training"),
    Visit("quiz", "learner", quiz_page, "Quiz: Reporting obligations"),
    Visit("quiz saved", "learner", quiz_saved, "Quiz: Reporting obligations"),
    Visit("quiz with errors", "learner", quiz_with_errors, "Quiz: Reporting obligations"),
    Visit(
        "result passed",
        "learner",
        result_passed,
        "Result: Zero tolerance: preventing sexual exploitation and abuse",
    ),
    Visit("result failed", "learner", result_failed, "Result: Reporting obligations"),
    Visit("coordinator dashboard", "coordinator", goto("/coordinator/"), "Training dashboard"),
    Visit("coordinator unit", "coordinator", coordinator_unit, "Infantry Battalion 1"),
    Visit("people", "coordinator", goto("/coordinator/people"), "People and their modules"),
    Visit("overdue people", "coordinator", goto("/coordinator/people?status=overdue"), "Overdue"),
    Visit(
        "people online",
        "coordinator",
        goto("/coordinator/people?delivery=online"),
        "People and their modules",
    ),
    Visit("person", "coordinator", coordinator_person, "Kiran Gurung"),
    Visit("new set-password link", "coordinator", new_set_password_link, "New set-password link"),
    Visit("roster upload", "coordinator", goto("/coordinator/roster"), "Import a roster"),
    Visit(
        "roster upload without file", "coordinator", roster_upload_without_file, "Import a roster"
    ),
    Visit("roster preview", "coordinator", roster_preview, "Roster preview"),
    Visit(
        "roster preview with problems",
        "coordinator",
        roster_preview_with_problems,
        "Roster preview",
    ),
    Visit("roster imported", "coordinator", roster_imported, "Roster imported"),
    Visit("commander overview", "commander", goto("/commander/"), "Readiness of your units"),
    Visit("commander unit", "commander", commander_unit, "Readiness: Infantry Battalion 1"),
    Visit("print units", "commander", goto("/commander/print"), "Print training records"),
    Visit("print", "commander", print_page, "Print training records: Infantry Battalion 1"),
    Visit(
        "print ready ticked",
        "commander",
        print_ready_ticked,
        "Print training records: Infantry Battalion 1",
    ),
    Visit(
        "print with errors",
        "commander",
        print_with_errors,
        "Print training records: Infantry Battalion 1",
    ),
    Visit(
        "print status", "commander", print_status, "Printing training records: Infantry Battalion 1"
    ),
    Visit("headquarters", "headquarters", goto("/headquarters/"), "Training across missions"),
    Visit(
        "headquarters by unit",
        "headquarters",
        goto("/headquarters/?by=unit&category=military_contingent"),
        "Training across missions",
    ),
    Visit("sessions", "coordinator", goto("/sessions/"), "Sessions"),
    Visit("past sessions", "facilitator", goto("/sessions/?when=past"), "Sessions"),
    Visit("schedule a session", "coordinator", goto("/sessions/new"), "Schedule a session"),
    Visit("schedule: people", "coordinator", schedule_people, "Schedule a session"),
    Visit("schedule with errors", "coordinator", schedule_with_errors, "Schedule a session"),
    Visit(
        "session",
        "coordinator",
        session_scheduled,
        re.compile(r"^Session of .+ at Birendra Peace Operations Training Centre$"),
    ),
    Visit(
        "session cancel", "coordinator", session_cancel, re.compile(r"^Cancel the session of .+\?$")
    ),
    Visit("session add people", "coordinator", session_add_people, "Add participants"),
    Visit("session pack", "coordinator", session_pack_printed, "Printing the session pack"),
    Visit("admin", "admin", goto("/admin/"), "Administration"),
    Visit("admin accounts", "admin", goto("/admin/users"), "Accounts"),
    Visit("admin account", "admin", admin_account, "Kiran Gurung"),
    Visit("admin audit trail", "admin", goto("/admin/audit"), "Audit trail"),
    Visit("admin certificate", "admin", admin_certificate, "Look up a certificate"),
    Visit("admin certificate search", "admin", admin_certificate_search, "Look up a certificate"),
    Visit(
        "admin revoke confirmation",
        "admin",
        admin_revoke_confirmation,
        re.compile(r"^Revoke certificate [A-Z0-9-]+\?$"),
    ),
]
