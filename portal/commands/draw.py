"""``flask --app wsgi draw …``: conducting, re-verifying and redrawing a month's draw."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from portal.campaign import draws, ledger
from portal.campaign.audit import Actor
from portal.campaign.draws import DrawRefused
from portal.campaign.staff import active_account
from portal.campaign.winners import awaiting_redraw
from portal.commands.periods import CAMPAIGN_OPTION, period_of
from portal.models import Draw, db, utcnow
from portal.services import eds
from portal.services.randomorg import RandomOrgClient, RandomOrgError
from portal.web.urls import SiteLinks
from portal.wording.formats import format_moment
from portal.wording.messages import (
    describe_changed_verdict,
    describe_draw_check,
    describe_random_org_error,
    describe_refusal,
    describe_verdict,
    pool_announcement_news,
    redraw_reasons,
)

LANG_OPTION = click.option(
    "--lang", default="kk", type=click.Choice(["kk", "ru"]), help="Language of the messages."
)
FALLBACK_OPTIONS = (
    click.option(
        "--fallback-reason-kk",
        default="",
        help="Draw locally (Python's secrets) instead of on random.org, for this written reason"
        " in Kazakh; needs --fallback-reason-ru and --admin.",
    ),
    click.option(
        "--fallback-reason-ru", default="", help="The local fallback's reason in Russian."
    ),
)


def fallback_options(command):
    for option in reversed(FALLBACK_OPTIONS):
        command = option(command)
    return command


ADMIN_OPTION = click.option(
    "--admin",
    "admin_email",
    default="",
    help="The e-mail of the active administrator account who decides the local fallback;"
    " recorded as who made the draw.",
)


@click.group("draw")
def draw_cli() -> None:
    """The monthly draws (rules 5-9)."""


def _fail(error: Exception, lang: str) -> click.ClickException:

    with force_locale(lang):
        if isinstance(error, DrawRefused):
            return click.ClickException(describe_refusal(error))
        return click.ClickException(describe_random_org_error(error))


def _actor(admin_email: str, fallback_reason: dict[str, str]) -> Actor:
    """Who makes the draw from the command line: the account named by ``--admin``, or ``cli``."""
    if not admin_email:
        if draws.written(fallback_reason):
            raise click.ClickException(
                "the local fallback is an administrator's decision: name the active"
                " administrator account with --admin EMAIL"
            )
        return Actor(label="cli")
    account = active_account(admin_email)
    if account is None:
        raise click.ClickException(f"no active staff account {admin_email}")
    return Actor(user=account, label="cli")


def _report(draw, lang: str) -> None:

    click.echo(
        f"draw {draw.id}: {draw.period.key}, pool {draw.pool_size}, sha256 {draw.pool_sha256}"
    )
    if draw.is_local:
        click.echo(f"LOCAL FALLBACK (not random.org): {draw.tr('fallback_reason', lang)}")
    else:
        click.echo(f"random.org serial {draw.serial_number}, completed {draw.completion_time}")
    for winner in draw.winners:
        click.echo(
            f"winner {winner.rank}: position {winner.position}, {winner.participant.account_masked}"
        )
    click.echo(f"public record: {SiteLinks().draw_record(draw.id, lang)}")


@draw_cli.command("run")
@click.option(
    "--period",
    "period_key",
    required=True,
    help="The reporting period: YYYY-MM, or YYYY-MM-DD (a custom period's first day).",
)
@CAMPAIGN_OPTION
@click.option(
    "--commission",
    required=True,
    help='The members present: "Name, position in Kazakh | position in Russian; ...".',
)
@click.option(
    "--place-kk", default="Алматы қ.", show_default=True, help="Where the draw is held, in Kazakh."
)
@click.option(
    "--place-ru", default="г. Алматы", show_default=True, help="Where the draw is held, in Russian."
)
@click.option(
    "--late-reason-kk", default="", help="Required after the 20th of the following month."
)
@click.option("--late-reason-ru", default="", help="The late reason in Russian.")
@fallback_options
@ADMIN_OPTION
@click.option("--yes", is_flag=True, help="Do not ask for confirmation after showing the pool.")
@LANG_OPTION
@with_appcontext
def run_command(
    period_key,
    campaign_slug,
    commission,
    place_kk,
    place_ru,
    late_reason_kk,
    late_reason_ru,
    fallback_reason_kk,
    fallback_reason_ru,
    admin_email,
    yes,
    lang,
) -> None:
    """Conduct the next due draw of a month: show the pool, confirm, draw, store the record.

    What the public record and the protocol show is given in Kazakh and in Russian."""

    fallback_reason = {"kk": fallback_reason_kk, "ru": fallback_reason_ru}
    actor = _actor(admin_email, fallback_reason)
    period = period_of(period_key, campaign_slug)
    members = draws.parse_commission(commission)
    refusals = draws.refusals(
        period,
        None,
        utcnow(),
        actor=actor,
        fallback=draws.written(fallback_reason),
    )
    if refusals:
        raise _fail(refusals[0], lang)
    # the pool announced (``draw announce``), made again from its nonce: ``conduct``
    # refuses any other, and before the announcement's waiting time has passed
    pool = draws.announced_pool(period, secret=current_app.config["SECRET_KEY"])
    click.echo(f"pool for {period.key}: {pool.size} participants, sha256 {pool.sha256}")
    _, refusal = draws.announcement_refusal(pool, utcnow())
    if refusal is not None:  # said before asking; the reservation checks again
        raise _fail(refusal, lang)
    if not yes:
        click.confirm("Conduct the draw over this pool?", abort=True)
    try:
        draw = draws.conduct(
            pool,
            commission=members,
            place={"kk": place_kk, "ru": place_ru},
            links=SiteLinks(),
            client=RandomOrgClient.from_config(current_app.config),
            actor=actor,
            late_reason={"kk": late_reason_kk, "ru": late_reason_ru},
            fallback_reason=fallback_reason,
        )
    except (draws.DrawRefused, RandomOrgError) as error:
        raise _fail(error, lang) from None
    _report(draw, lang)


@draw_cli.command("announce")
@click.option(
    "--period",
    "period_key",
    default="",
    help="The reporting period: YYYY-MM, or YYYY-MM-DD (a custom period's first day).",
)
@CAMPAIGN_OPTION
@click.option(
    "--replaces",
    "replaces_id",
    type=int,
    default=None,
    help="Announce the pool of the redraw that replaces this draw instead.",
)
@ADMIN_OPTION
@click.option("--yes", is_flag=True, help="Do not ask for confirmation after showing the pool.")
@LANG_OPTION
@with_appcontext
def announce_command(period_key, campaign_slug, replaces_id, admin_email, yes, lang) -> None:
    """The commission's first step: publish the pool of a month's draw (or of a redraw)
    with its size, SHA-256 and the time, on the month's pages, the news and the feed.

    The draw (``draw run``, ``draw redraw``) may then be made over this very pool once
    DRAW_ANNOUNCEMENT_WAIT_MINUTES have passed; announcing again withdraws the pool
    announced before."""

    actor = _actor(admin_email, {})
    replaces = None
    if replaces_id is not None:
        replaces = db.session.get(Draw, replaces_id)
        if replaces is None:
            raise click.ClickException(f"no draw {replaces_id}")
        period = replaces.period
    else:
        if not period_key:
            raise click.UsageError("give --period YYYY-MM, or --replaces DRAW_ID for a redraw")
        period = period_of(period_key, campaign_slug)
    refusals = draws.refusals(period, replaces, utcnow(), actor=actor)
    if refusals:
        raise _fail(refusals[0], lang)
    pool = draws.prepare(period, secret=current_app.config["SECRET_KEY"], replaces=replaces)
    what = f"redraw of draw {replaces.id}" if replaces is not None else period.key
    click.echo(f"pool for {what}: {pool.size} participants, sha256 {pool.sha256}")
    if not yes:
        click.confirm("Announce (publish) this pool now?", abort=True)
    wait = draws.announcement_wait(current_app.config)
    try:
        announcement = draws.announce(
            pool, actor=actor, wait=wait, news=pool_announcement_news, expected_sha256=pool.sha256
        )
    except draws.DrawRefused as error:
        raise _fail(error, lang) from None
    with force_locale(lang):
        click.echo(
            f"announcement {announcement.id}: announced at"
            f" {format_moment(announcement.announced_at, lang)}; to be drawn not before"
            f" {format_moment(announcement.not_before, lang)}"
        )


@draw_cli.command("redraw")
@click.argument("draw_id", type=int)
@click.option(
    "--reason-kk",
    default="",
    help="Why the draw is made again (rules 8, 9, 12), in Kazakh; by default the reason"
    " the winners' fall gives, in both languages.",
)
@click.option("--reason-ru", default="", help="The reason in Russian.")
@fallback_options
@ADMIN_OPTION
@LANG_OPTION
@with_appcontext
def redraw_command(
    draw_id: int,
    reason_kk: str,
    reason_ru: str,
    fallback_reason_kk: str,
    fallback_reason_ru: str,
    admin_email: str,
    lang: str,
) -> None:
    """Conduct the redraw that replaces draw DRAW_ID, over its pool minus the excluded."""

    fallback_reason = {"kk": fallback_reason_kk, "ru": fallback_reason_ru}
    actor = _actor(admin_email, fallback_reason)
    draw = db.session.get(Draw, draw_id)
    if draw is None:
        raise click.ClickException(f"no draw {draw_id}")
    reason = {"kk": reason_kk, "ru": reason_ru}
    if not draws.written(reason):
        reason = redraw_reasons(awaiting_redraw(draw))
    try:
        new = draws.redraw(
            draw,
            reason,
            secret=current_app.config["SECRET_KEY"],
            links=SiteLinks(),
            client=RandomOrgClient.from_config(current_app.config),
            actor=actor,
            fallback_reason=fallback_reason,
        )
    except (draws.DrawRefused, RandomOrgError) as error:
        raise _fail(error, lang) from None
    click.echo(f"draw {new.id} replaces draw {draw_id}: {new.tr('reason', lang)}")
    _report(new, lang)


@draw_cli.command("verify")
@click.argument("draw_id", type=int, required=False)
@click.option(
    "--missing",
    is_flag=True,
    help="Verify, once, every draw that has no verdict kept yet (stored before verdicts were).",
)
@LANG_OPTION
@with_appcontext
def verify_command(draw_id: int | None, missing: bool, lang: str) -> None:
    """Re-verify a stored draw offline and keep its new verdict and time; exit 0 only when
    its record holds together (and its verdict is the one kept before)."""

    actor = Actor(label="cli")
    if missing:
        done = draws.verify_missing(eds_settings=eds.settings_from_config(current_app.config))
        click.echo(f"{len(done)} draw(s) verified: {' '.join(map(str, done)) or '-'}")
        if draw_id is None:
            return
    if draw_id is None:
        raise click.UsageError("give a DRAW_ID or --missing")
    draw = db.session.get(Draw, draw_id)
    if draw is None:
        raise click.ClickException(f"no draw {draw_id}")
    result = draws.reverify(draw, actor, eds_settings=eds.settings_from_config(current_app.config))
    db.session.commit()
    verdict = result.verdict
    with force_locale(lang):
        for check in result.checks:
            title, found = describe_draw_check(check)
            mark = "n/a " if check.detail == "not-applicable" else "ok  " if check.ok else "FAIL"
            click.echo(f"{mark} {title}: {found}")
        sentence = describe_verdict(verdict)
        changed = describe_changed_verdict(result.previous, draw_id) if result.changed else ""
    # the same verdict as the public record and the staff's page, then its code for scripts
    if changed:
        click.echo(changed, err=True)
        click.echo(f"draw {draw_id}: verdict changed from {result.previous.code}", err=True)
    if not verdict.holds or result.changed:
        click.echo(sentence, err=True)
        click.echo(f"draw {draw_id}: {verdict.code}", err=True)
        sys.exit(1)
    click.echo(sentence)
    click.echo(f"draw {draw_id}: {verdict.code}")


@draw_cli.command("ledger")
@with_appcontext
def ledger_command() -> None:
    """Fetch with random.org's getResult every serial of the portal's key it does not hold
    (between the lowest held and the highest, each draw's previous one, and any past the
    highest), then print the key's run of serials; exit 1 when an answer the portal did
    not ask for, or a missing serial, is on it (docs/DESIGN.md, "The ledger")."""

    client = RandomOrgClient.from_config(current_app.config)
    if not client.api_key:
        raise click.ClickException("RANDOM_ORG_API_KEY is not set: no key to fetch answers of")
    report = ledger.sync(client, beyond=True)
    click.echo(
        f"fetched {len(report.fetched)}: {' '.join(map(str, report.fetched)) or '-'};"
        f" not given back {len(report.missing)}: {' '.join(map(str, report.missing)) or '-'}"
    )
    if report.error:
        click.echo(f"random.org: {report.error}, stopped early", err=True)
    again = draws.reverify_for_the_ledger(
        Actor(label="cli"), eds_settings=eds.settings_from_config(current_app.config)
    )
    db.session.commit()
    for draw_id in again:  # its ledger check needed an answer just fetched
        verdict = draws.stored_verdict(db.session.get(Draw, draw_id)).code
        click.echo(f"draw {draw_id} verified again: {verdict}")
    flagged = 0
    for run in ledger.runs():
        if run.hashed_api_key != client.hashed_api_key:
            continue
        click.echo(f"key {run.hashed_api_key}")
        for serial in run.serials:
            what = serial.use + (f" {serial.draw_id}" if serial.draw_id is not None else "")
            mark = "!" if serial.flagged else " "
            click.echo(f"{mark} {serial.serial:>8} {serial.completion_time or '-':<22} {what}")
        flagged += run.flagged
    if flagged:
        click.echo(f"{flagged} serial(s) not asked by the portal or missing", err=True)
        sys.exit(1)
