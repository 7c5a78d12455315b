"""Views of the learner's journey: list, read, quiz, result, certificate."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
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


@bp.route("/<slug>")
def module(slug: str) -> str:
    version = training.required_version(current_user, slug) or abort(404)
    page = training.module_page(current_user, version)
    # Read only when an attempt at the version is open: most views have none.
    still_open = [a.id for a in page.attempts_at_version if a.submitted_at is None]
    held = next(iter(quiz.on_paper(still_open).values()), None)
    return render_template(
        "learner/module.html",
        status=page.status,
        on_paper=quiz.paper_refusal(held) if held else None,
        text=translations.module_text(version),
        read_so_far=page.read_so_far,
        attempts=page.attempts_at_version,
        cooldown=cooldown_message(version, attempts=page.attempts),
        cooldown_minutes=current_app.config["QUIZ_COOLDOWN_MINUTES"],
    )


@bp.route("/<slug>/sections/<int:number>")
def section(slug: str, number: int) -> str:
    # Reads only: where the person is is recorded by the buttons that lead here (POST).
    version = training.required_version(current_user, slug) or abort(404)
    text = translations.module_text(version)
    shown = text.section(number) or abort(404)
    return render_template("learner/section.html", v=version, text=text, section=shown)


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
def whole_module(slug: str) -> str:
    version = training.required_version(current_user, slug) or abort(404)
    return render_template(
        "learner/whole_module.html", v=version, text=translations.module_text(version)
    )


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
def attempt(attempt_id: int) -> Response | str | tuple[str, int]:
    attempt = own_attempt(attempt_id)
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
    return (page, 422) if errors else page


@bp.route("/attempts/<int:attempt_id>/answers", methods=["POST"])
def save_answers(attempt_id: int) -> Response | tuple[Response, int]:
    """Keep the answers chosen so far on an open attempt, without submitting them.

    The quiz's script sends each change here and reads JSON; the "Save and continue
    later" button posts the whole form and comes back to the quiz.
    """
    attempt = own_attempt(attempt_id)
    wants_json = request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    )
    try:
        held = paper_sheet(attempt)
        if held is not None:
            raise quiz.SaveRefused(quiz.paper_refusal(held))
        quiz.save_answers(attempt, quiz.parse_answers(request.form, attempt))
    except quiz.SaveRefused as refused:
        db.session.rollback()
        if wants_json:
            return jsonify(saved=False, message=refused.message), 409 if refused.submitted else 400
        flash(refused.message, "info" if refused.submitted else "error")
        return redirect(url_for("learner.attempt", attempt_id=attempt_id))
    db.session.commit()
    if wants_json:
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
    document = documents.certificate_document(certificate)
    db.session.commit()
    return downloads.stored(document, f"certificate-{certificate.code}.pdf")


@bp.route("/record.pdf")
@downloads.pdf_limit
def record_pdf() -> Response:
    return downloads.training_record(current_user)
