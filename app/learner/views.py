"""Views of the learner's journey: list, read, quiz, result, certificate."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from app import downloads, i18n
from app.extensions import db
from app.learner import bp
from app.models import QuizAttempt
from app.models.types import utcnow
from app.services import (
    annexes,
    attestation,
    certificates,
    documents,
    plan,
    quiz,
    reading,
    training,
    translations,
)
from app.services.content import published
from app.services.content.published import ModuleContent


@bp.context_processor
def mission_annex() -> dict[str, object]:
    """Let a page show the learner's mission annex, looked up only if the page asks.

    In the language the page asks for (a module's shows it in the module's language).
    """

    def annex(language: str | None = None) -> translations.AnnexText | None:
        return translations.annex_text(annexes.annex_for_person(current_user), language)

    return {"mission_annex": annex}


@bp.route("/")
def index() -> str:
    mine = plan.plan(current_user)
    return render_template(
        "learner/index.html",
        plan=mine,
        texts=translations.titles(item.status.version for item in mine.items),
        certificates=mine.certificates,
    )


# Sent with the pages a learner may keep on their device: the offline script keeps, and
# the service worker refreshes, only pages that say so. A result never does.
KEEP_HEADER = "Keep-Offline"
# The files a kept page needs, by their names in app/static.
KEPT_ASSETS = ("style.css", "offline.js", "quiz.js", "favicon.svg")


def keepable(page: str) -> Response:
    """Return a page the learner may keep on their device, marked as such."""
    response = make_response(page)
    response.headers[KEEP_HEADER] = "yes"
    return response


def wants_json() -> bool:
    """Tell whether the request is a script's, which reads JSON, rather than a form's."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


@bp.route("/<slug>")
def module(slug: str) -> Response:
    version = training.required_version(current_user, slug) or abort(404)
    page = training.module_page(current_user, version)
    # Read only when an attempt at the version is open: most views have none.
    still_open = [a.id for a in page.attempts_at_version if a.submitted_at is None]
    held = next(iter(quiz.on_paper(still_open).values()), None)
    shown = render_template(
        "learner/module.html",
        status=page.status,
        on_paper=quiz.paper_refusal(held) if held else None,
        text=translations.module_text(version),
        read_so_far=page.read_so_far,
        attempts=page.attempts_at_version,
        cooldown=cooldown_message(version, attempts=page.attempts),
        cooldown_minutes=current_app.config["QUIZ_COOLDOWN_MINUTES"],
    )
    return keepable(shown)


@bp.route("/<slug>/kept", methods=["POST"])
def keep(slug: str) -> Response:
    """Say what to keep on the device for a module: its pages, its quiz, their files.

    The quiz is kept too: the person's open attempt, started here if they may start one.
    Only the person's own pages are listed; the script fetches and keeps them.
    """
    status = training.module_status(current_user, slug) or abort(404)
    version = status.version
    attempt = quiz.open_attempt(current_user, version)
    note = None
    if attempt is None and status.needs_attestation:
        note = _("Confirm the undertaking to keep the quiz on this device too.")
    elif attempt is None and status.can_start:
        note = cooldown_message(version)
        if note is None:
            language = translations.wanted_language()
            attempt = quiz.start_attempt(current_user, version, language=language)
    db.session.commit()
    text = translations.module_text(version)
    pages = [
        url_for("learner.module", slug=slug),
        *(url_for("learner.section", slug=slug, number=s.number) for s in text.sections),
        url_for("learner.whole_module", slug=slug),
    ]
    if attempt is not None:
        pages.append(url_for("learner.attempt", attempt_id=attempt.id))
    assets = [url_for("static", filename=name) for name in KEPT_ASSETS]
    assets += [url_for("favicon"), url_for("public.manifest", lang=i18n.page_locale().language)]
    return jsonify(
        slug=slug,
        title=text.title,
        pages=pages,
        assets=assets,
        sections=len(text.sections),
        quiz=attempt is not None,
        note=note,
    )


@bp.route("/<slug>/sections/<int:number>")
def section(slug: str, number: int) -> Response:
    # Reads only: where the person is is recorded by the buttons that lead here (POST).
    version = training.required_version(current_user, slug) or abort(404)
    text = translations.module_text(version)
    shown = text.section(number) or abort(404)
    return keepable(render_template("learner/section.html", v=version, text=text, section=shown))


@bp.route("/<slug>/sections", methods=["POST"])
def open_section(slug: str) -> Response:
    """Record the section the person goes to (their last, perhaps their furthest), go there."""
    version = training.required_version(current_user, slug) or abort(404)
    number = request.form.get("to", type=int) or 0
    if not 1 <= number <= len(version.sections):
        abort(400)
    reading.record(current_user, version, number)
    db.session.commit()
    return redirect(url_for("learner.section", slug=slug, number=number))


@bp.route("/<slug>/all")
def whole_module(slug: str) -> Response:
    version = training.required_version(current_user, slug) or abort(404)
    text = translations.module_text(version)
    return keepable(render_template("learner/whole_module.html", v=version, text=text))


def cooldown_message(
    version: ModuleContent,
    drawn_at: datetime | None = None,
    attempts: list[training.AttemptSummary] | None = None,
) -> str | None:
    """Say when the learner may try the quiz again, if they must wait after failing it.

    With `drawn_at`, only for an attempt drawn before the wait began; with `attempts`,
    from the learner's attempts at the module already read.
    """
    wait = quiz.cooldown(current_user, version, attempts=attempts)
    if wait is None or (drawn_at is not None and drawn_at >= wait.since):
        return None
    until = wait.until
    minutes = max(1, math.ceil((until - utcnow()).total_seconds() / 60))
    # Shown to the minute, rounded up, so that the time given is never too early.
    shown = until.replace(second=0, microsecond=0)
    if shown < until:
        shown += timedelta(minutes=1)
    return str(
        ngettext(
            "You did not pass your last two attempts. Read the module again: you can start "
            "a new attempt at %(time)s UTC, in %(num)d minute.",
            "You did not pass your last two attempts. Read the module again: you can start "
            "a new attempt at %(time)s UTC, in %(num)d minutes.",
            minutes,
            time=i18n.format_moment(shown),
        )
    )


@bp.route("/<slug>/attestation", methods=["POST"])
def attest(slug: str) -> Response:
    status = training.module_status(current_user, slug) or abort(404)
    if status.version.attestation is None:
        abort(404)
    # Recorded in the words the page showed, in their language: the form names both, and
    # words that changed since (a translation loaded meanwhile) are read again first.
    text = translations.module_text(status.version, request.form.get("language") or None)
    if request.form.get("confirm") != "yes":
        flash(_("Tick the box to confirm the undertaking, then press Confirm."), "error")
    elif request.form.get("words", text.undertaking_digest) != text.undertaking_digest:
        flash(_("The words of the undertaking have changed since the page was shown. "
                "Read them again, then confirm."), "error")  # fmt: skip
    else:
        attestation.attest(current_user, status.version, text.attestation, text.language)
        db.session.commit()
        flash(_("Thank you. Your undertaking is recorded. You can now take the quiz."), "info")
    return redirect(url_for("learner.module", slug=slug, _anchor="quiz-heading"))


@bp.route("/<slug>/attempts", methods=["POST"])
def start_attempt(slug: str) -> Response:
    status = training.module_status(current_user, slug) or abort(404)
    if status.needs_attestation:
        flash(_("Confirm the undertaking at the end of the module before the quiz."), "error")
        return redirect(url_for("learner.module", slug=slug, _anchor="quiz-heading"))
    if not status.can_start:
        flash(_("You have already passed this module. It is valid until %(date)s.",
                date=i18n.format_day(status.completion.expires_at)), "info")  # type: ignore[union-attr]  # fmt: skip
        return redirect(url_for("learner.module", slug=slug))
    cooldown = cooldown_message(status.version)
    if cooldown is not None:
        flash(cooldown, "error")
        return redirect(url_for("learner.module", slug=slug, _anchor="quiz-heading"))
    held = paper_sheet(quiz.open_attempt(current_user, status.version))
    if held is not None:
        flash(quiz.paper_refusal(held), "error")
        return redirect(url_for("learner.module", slug=slug, _anchor="quiz-heading"))
    # One open attempt at a time, continued with its saved answers: a stock of drawn
    # attempts would get round the wait, and each new one would leave the answers behind.
    language = translations.wanted_language()
    attempt = quiz.start_attempt(current_user, status.version, language=language)
    db.session.commit()
    return redirect(url_for("learner.attempt", attempt_id=attempt.id))


def own_attempt(attempt_id: int) -> QuizAttempt:
    """Return the attempt if it is the current user's; 404 otherwise."""
    return quiz.find_attempt(current_user, attempt_id) or abort(404)


def paper_sheet(attempt: QuizAttempt | None) -> quiz.OnPaper | None:
    """Return the session holding an open attempt on paper, if one does."""
    if attempt is None or attempt.submitted_at is not None:
        return None
    return quiz.on_paper([attempt.id]).get(attempt.id)


@bp.route("/attempts/<int:attempt_id>", methods=["GET", "POST"])
def attempt(attempt_id: int) -> Response | tuple[Response, int] | str | tuple[str, int]:
    attempt = own_attempt(attempt_id)
    if request.method == "POST" and wants_json():
        return kept_submission(attempt)
    if attempt.submitted_at is not None and request.method == "POST":
        flash(_("This attempt had already been submitted; here is its result."), "info")
        return redirect(url_for("learner.attempt", attempt_id=attempt.id))
    version = published.version(attempt.module_version_id)
    if attempt.submitted_at is not None:
        return render_template(
            "learner/result.html",
            attempt=attempt,
            version=version,
            text=translations.module_text(version, attempt.language),
            questions=quiz.attempt_feedback(attempt),
            certificate=training.earned_certificate(attempt) if attempt.passed else None,
            cooldown=None if attempt.passed else cooldown_message(version),
        )
    # Printed on a session's answer sheet: it is taken there, not online meanwhile.
    held = paper_sheet(attempt)
    if held is not None:
        flash(quiz.paper_refusal(held), "error")
        return redirect(url_for("learner.module", slug=version.slug, _anchor="quiz-heading"))
    errors: dict[str, str] = {}
    # The answers saved as the learner went fill the quiz in again; only the form
    # submitted is graded, so what the learner sees checked is what counts.
    answers: dict[str, list[str]] = attempt.saved_answers or {}
    if request.method == "POST":
        # An attempt drawn before the second failure, in another tab or ahead of time:
        # grading it during the wait would get round the wait.
        cooldown = cooldown_message(version, drawn_at=attempt.started_at)
        if cooldown is not None:
            flash(cooldown, "error")
            return redirect(url_for("learner.module", slug=version.slug))
        answers = quiz.parse_answers(request.form, attempt)
        errors = quiz.answer_errors(attempt, answers)
        if not errors:
            if not quiz.submit_attempt(attempt, answers):
                flash(_("This attempt had already been submitted; here is its result."), "info")
            db.session.commit()
            return redirect(url_for("learner.attempt", attempt_id=attempt_id))
    page = render_template(
        "learner/quiz.html",
        version=version,
        attempt=attempt,
        text=translations.module_text(version, attempt.language),
        questions=quiz.attempt_questions(attempt, answers),
        errors=errors,
    )
    return (page, 422) if errors else keepable(page)


def kept_submission(attempt: QuizAttempt) -> Response | tuple[Response, int]:
    """Grade a submission the quiz's script sends, perhaps late from a device; answer JSON.

    Pressed while offline, it is kept on the device and sent when the connection
    returns, with the time it was pressed; sent twice, the second answers as already
    submitted and changes nothing.
    """
    if attempt.submitted_at is not None:
        return already_submitted(attempt)
    version = published.version(attempt.module_version_id)
    cooldown = cooldown_message(version, drawn_at=attempt.started_at)
    if cooldown is not None:
        return jsonify(submitted=False, message=cooldown), 409
    try:
        answered_at = answered_on_device()
    except quiz.SaveRefused as refused:
        return jsonify(submitted=False, message=refused.message), 400
    answers = quiz.parse_answers(request.form, attempt)
    errors = quiz.answer_errors(attempt, answers)
    if errors:
        return jsonify(submitted=False, message=_("Some questions need an answer:"),
                       errors=list(errors.values())), 422  # fmt: skip
    recorded = quiz.submit_attempt(attempt, answers, answered_at=answered_at)
    db.session.commit()
    if not recorded:
        return already_submitted(attempt)
    return jsonify(
        submitted=True,
        message=_("Your answers were submitted."),
        result_url=url_for("learner.attempt", attempt_id=attempt.id),
    )


def already_submitted(attempt: QuizAttempt) -> Response:
    """Answer a submission arriving after the attempt's: where its result is, no change."""
    return jsonify(
        submitted=False,
        already_submitted=True,
        message=_("This attempt had already been submitted; here is its result."),
        result_url=url_for("learner.attempt", attempt_id=attempt.id),
    )


def answered_on_device() -> datetime | None:
    """Read when the device says the answers sent were given; SaveRefused if not a time."""
    try:
        return quiz.device_time(request.form.get("answered_at"))
    except ValueError:
        message = _("The time the answers were given is not a date and time (ISO 8601).")
        raise quiz.SaveRefused(message) from None


@bp.route("/attempts/<int:attempt_id>/answers", methods=["POST"])
def save_answers(attempt_id: int) -> Response | tuple[Response, int]:
    """Keep the answers chosen so far on an open attempt, without submitting them.

    The quiz's script sends each change here and reads JSON, with the time the answers
    were given on the device (`answered_at`: they may have been kept there while it was
    offline); the "Save and continue later" button posts the whole form and comes back
    to the quiz.
    """
    attempt = own_attempt(attempt_id)
    json = wants_json()
    try:
        held = paper_sheet(attempt)
        if held is not None:
            raise quiz.SaveRefused(quiz.paper_refusal(held))
        answered_at = answered_on_device()
        quiz.save_answers(
            attempt, quiz.parse_answers(request.form, attempt), answered_at=answered_at
        )
    except quiz.SaveRefused as refused:
        db.session.rollback()
        if json:
            return jsonify(saved=False, message=refused.message), 409 if refused.submitted else 400
        flash(refused.message, "info" if refused.submitted else "error")
        return redirect(url_for("learner.attempt", attempt_id=attempt_id))
    db.session.commit()
    if json:
        saved_at = attempt.saved_at.isoformat() if attempt.saved_at else None
        return jsonify(saved=True, message=_("Saved"), saved_at=saved_at)
    flash(_("Saved. Your answers are kept until you submit them: to come back to them, "
            "press Start the quiz on the module's page."), "info")  # fmt: skip
    return redirect(url_for("learner.attempt", attempt_id=attempt_id))


@bp.route("/certificates/<code>.pdf")
@downloads.pdf_limit
def certificate_pdf(code: str) -> Response:
    certificate = certificates.find_for_user(code, current_user.id) or abort(404)
    if certificate.revoked_at is not None:
        flash(
            _("This certificate was revoked on %(date)s. It is no longer valid and cannot be "
              "downloaded.", date=i18n.format_day(certificate.revoked_at)),
            "error",
        )  # fmt: skip
        return redirect(url_for("learner.index"))
    # Stored when it was issued; rendered now (and stored) if that has not happened yet.
    document = documents.certificate_file(certificate)
    filename = f"certificate-{certificate.code}.pdf"  # before the commit expires it
    db.session.commit()
    return downloads.stored(document, filename)


@bp.route("/record.pdf")
@downloads.pdf_limit
def record_pdf() -> Response:
    return downloads.training_record(current_user)
