"""Reminder e-mails to people whose mandatory training is overdue or about to expire.

Nobody is reminded more than once per REMINDER_INTERVAL_DAYS, whoever sends the
reminders and however often: every reminder sent is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, format_date, gettext, ngettext

from app import i18n
from app.extensions import db
from app.models import ModuleVersion, Reminder, User
from app.models.types import utcnow
from app.services import accounts, links, mail, reporting
from app.services.reporting import State

REMINDED_STATES = (State.OVERDUE, State.EXPIRING)


@dataclass(frozen=True)
class DueModule:
    """One module a person must act on: overdue (it was due by `on`) or expiring on `on`."""

    title: str
    state: State
    on: date


@dataclass(frozen=True)
class Due:
    """A person to remind and the modules to name, overdue ones first."""

    user: User
    modules: list[DueModule]

    @property
    def address(self) -> str:
        """Return the e-mail address the reminder goes to."""
        return (self.user.email or "").strip()


class DueList(list[Due]):
    """People to remind, with counts of those who need a reminder but will not get one."""

    def __init__(
        self,
        dues: Iterable[Due] = (),
        *,
        without_email: int = 0,
        reminded_recently: int = 0,
        interval_days: int = 0,
    ) -> None:
        super().__init__(dues)
        self.without_email = without_email
        self.reminded_recently = reminded_recently
        self.interval_days = interval_days


@dataclass(frozen=True)
class Failure:
    """A reminder the mail server did not take, and why."""

    due: Due
    reason: str

    @property
    def address(self) -> str:
        """Return the address the reminder was for."""
        return self.due.address


@dataclass
class Outcome:
    """What a batch of reminders did (or, in a dry run, would do)."""

    dry_run: bool
    without_email: int
    reminded_recently: int
    interval_days: int
    sent: list[Due] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def with_set_password_link(self) -> int:
        """Return how many of the reminders sent carry a set-password link."""
        return sum(1 for item in self.sent if item.user.password_hash is None)


def due(unit_ids: Sequence[int] | None, within_days: int, now: datetime | None = None) -> DueList:
    """Return the people in the units to remind, in one query whatever their number."""
    now = now or utcnow()
    interval_days = int(current_app.config["REMINDER_INTERVAL_DAYS"])
    states = reporting.person_module_states(
        reporting.Filters(unit_ids=unit_ids),
        reporting.Cutoffs.at(now, expiring_days=within_days),
    )
    reminded = (
        sa.exists()
        .where(
            Reminder.user_id == User.id,
            Reminder.sent_at > now - timedelta(days=interval_days),
        )
        .label("reminded")
    )
    query = (
        sa.select(User, ModuleVersion.title, states.c.state, states.c.expires_at, reminded)
        .select_from(states)
        .join(User, User.id == states.c.user_id)
        .join(
            ModuleVersion,
            sa.and_(ModuleVersion.module_id == states.c.module_id, ModuleVersion.is_current),
        )
        .where(states.c.state.in_([state.value for state in REMINDED_STATES]))
        .order_by(User.full_name, User.id, ModuleVersion.title)
    )
    people: dict[int, tuple[User, bool, list[DueModule]]] = {}
    for user, title, state, expires_at, was_reminded in db.session.execute(query):
        state = State(state)
        if state == State.OVERDUE:
            on = reporting.due_date(user)
        else:
            expiry = reporting.aware(expires_at)
            assert expiry is not None  # an expiring module has a completion
            on = expiry.date()
        people.setdefault(user.id, (user, bool(was_reminded), []))[2].append(
            DueModule(title, state, on)
        )

    dues = DueList(interval_days=interval_days)
    for user, was_reminded, modules in people.values():
        if not (user.email or "").strip():
            dues.without_email += 1
        elif was_reminded:
            dues.reminded_recently += 1
        else:
            modules.sort(key=lambda module: (module.state != State.OVERDUE, module.on))
            dues.append(Due(user, modules))
    return dues


def send(dues: DueList, dry_run: bool) -> Outcome:
    """E-mail each person and record the reminders sent; one failure does not stop the rest."""
    outcome = Outcome(
        dry_run=dry_run,
        without_email=dues.without_email,
        reminded_recently=dues.reminded_recently,
        interval_days=dues.interval_days,
    )
    sign_in = sign_in_url()
    for item in dues:
        subject, body = compose(item, sign_in)
        if dry_run:
            outcome.sent.append(item)
            continue
        language = i18n.recipient_language(item.user.language)
        try:
            mail.send(item.address, subject, body, name=item.user.full_name, language=language)
        except mail.MailError as error:
            outcome.failures.append(Failure(item, str(error.__cause__ or error)))
            continue
        db.session.add(
            Reminder(
                user_id=item.user.id,
                sent_at=utcnow(),
                modules=[module.title for module in item.modules],
            )
        )
        outcome.sent.append(item)
    db.session.flush()
    return outcome


def sign_in_url(base_url: str | None = None) -> str:
    """Return the address where people sign in to their training."""
    return links.page_url("learner.index", base_url)


def set_password_link(user: User, base_url: str | None = None) -> str | None:
    """Return a fresh set-password link for someone who has never chosen a password."""
    if user.password_hash is not None:
        return None
    token = accounts.set_password_token(user.id, user.session_token)
    return accounts.set_password_url(token, base_url)


def compose(item: Due, sign_in: str) -> tuple[str, str]:
    """Return the subject and plain-text body of one person's reminder.

    Someone who has never chosen a password cannot use the sign-in page: their
    reminder carries a fresh set-password link instead.
    """
    link = set_password_link(item.user)
    with force_locale(i18n.recipient_language(item.user.language)):
        if any(module.state == State.OVERDUE for module in item.modules):
            subject = gettext("Your conduct training is overdue")
        else:
            subject = gettext("Your conduct training expires soon")
        lines = [
            gettext("Dear %(name)s,", name=item.user.full_name),
            "",
            ngettext(
                "This is a reminder about a module of your mandatory conduct training:",
                "This is a reminder about %(num)d modules of your mandatory conduct training:",
                len(item.modules),
            ),
            "",
        ]
        lines += [f"- {describe(module)}" for module in item.modules]
        lines += ["", *where_to_go(item, link, sign_in)]
        lines += [
            "",
            gettext(
                "If you have already done so, thank you: please ignore this message. "
                "If you have a question, please ask your training coordinator."
            ),
            "",
            gettext("Blue Beret conduct training"),
        ]
    return subject, "\n".join(lines) + "\n"


def where_to_go(item: Due, link: str | None, sign_in: str) -> list[str]:
    """Return the lines that send a person to sign in, or to choose a first password."""
    if link is None:
        return [
            ngettext(
                "Please sign in and complete it at:",
                "Please sign in and complete them at:",
                len(item.modules),
            ),
            sign_in,
        ]
    return [
        gettext(
            "You have not chosen a password yet. Choose one on this page, then sign "
            "in with your service number, %(number)s:",
            number=item.user.service_number,
        ),
        link,
        "",
        gettext(
            "The link works once and expires in %(days)s days. If it has expired, "
            "ask your training coordinator for a new one.",
            days=accounts.link_days(),
        ),
    ]


def describe(module: DueModule) -> str:
    """Return one line saying what a person must do about a module, and by when."""
    on = format_date(module.on, "long")
    if module.state == State.OVERDUE:
        text = gettext("%(title)s: overdue. It was due by %(date)s.", title=module.title, date=on)
    else:
        text = gettext(
            "%(title)s: your completion expires on %(date)s. Please take it again before then.",
            title=module.title,
            date=on,
        )
    return str(text)


def summary(outcome: Outcome) -> str:
    """Return one paragraph saying what a batch of reminders did."""
    sent = len(outcome.sent)
    if outcome.dry_run:
        parts = [
            ngettext(
                "Dry run: %(num)d reminder would be sent.",
                "Dry run: %(num)d reminders would be sent.",
                sent,
            )
        ]
    else:
        parts = [ngettext("%(num)d reminder sent.", "%(num)d reminders sent.", sent)]
    if outcome.with_set_password_link:
        parts.append(
            ngettext(
                "%(num)d of them has never set a password, so the reminder carries a "
                "set-password link instead of the sign-in link.",
                "%(num)d of them have never set a password, so their reminders carry a "
                "set-password link instead of the sign-in link.",
                outcome.with_set_password_link,
            )
        )
    if outcome.reminded_recently:
        days = ngettext("%(num)d day", "%(num)d days", outcome.interval_days)
        parts.append(
            ngettext(
                "%(num)d person skipped: already reminded in the last %(days)s.",
                "%(num)d people skipped: already reminded in the last %(days)s.",
                outcome.reminded_recently,
                days=days,
            )
        )
    if outcome.without_email:
        parts.append(
            ngettext(
                "%(num)d person has no e-mail address and was not reminded.",
                "%(num)d people have no e-mail address and were not reminded.",
                outcome.without_email,
            )
        )
    if outcome.failures:
        parts.append(
            ngettext(
                "%(num)d reminder could not be sent: the mail server did not accept it.",
                "%(num)d reminders could not be sent: the mail server did not accept them.",
                len(outcome.failures),
            )
        )
    return " ".join(parts)
