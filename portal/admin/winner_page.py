"""The staff's page of one winner (``/admin/winners/<id>``): where it stands, its forms,
and the question each button that cannot be undone asks.

Every step posts one form; when it comes back with errors, the page is shown again
with that form as posted (its error summary on top) and the others empty. Forms whose
fields share a name carry an id prefix, so every field of the page has its own id.
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from wtforms import SelectChoice

from portal.admin.forms import (
    ConfirmForm,
    ContactForm,
    DeliveryForm,
    ForfeitForm,
    NoteForm,
    PhotoForm,
    StaffFileForm,
    VerifyForm,
)
from portal.campaign import acts
from portal.campaign import winners as winner_rules
from portal.campaign.conditions import of_campaign
from portal.campaign.periods import local_today
from portal.models import ContactAttempt, Winner
from portal.web.forms import IdentityForm
from portal.wording import confirmations
from portal.wording.formats import format_period
from portal.wording.messages import contact_channel_name, delivery_method_name, winner_outcome_name

# each form of the page: its class and the prefix of its fields' ids
FORMS: dict[str, tuple[type, str]] = {
    "verify_form": (VerifyForm, ""),
    "contact_form": (ContactForm, "contact-"),
    "no_response_form": (NoteForm, "no-response-"),
    "act_form": (NoteForm, "act-"),
    "return_form": (NoteForm, "return-"),
    "forfeit_form": (ForfeitForm, "forfeit-"),
    "delivery_form": (DeliveryForm, "delivery-"),
    "photo_form": (PhotoForm, ""),
    "identity_form": (IdentityForm, ""),
    "staff_file_form": (StaffFileForm, ""),
    "confirm_form": (ConfirmForm, ""),
}


def page_forms(winner: Winner, submitted: str | None = None) -> dict[str, Any]:
    """The page's forms: ``submitted`` bound to the request, the others as the page offers them."""
    forms = {}
    for name, (form_class, prefix) in FORMS.items():
        options: dict[str, Any] = {"id_prefix": prefix}
        if name != submitted:
            options["formdata"] = None
        if name == "identity_form":
            options["obj"] = acts.identity_of(winner)
        forms[name] = form_class(**options)
    contact = forms["contact_form"]
    contact.channel.choices = [
        SelectChoice(c, contact_channel_name(c)) for c in ContactAttempt.CHANNELS
    ]
    if not contact.on.data:
        contact.on.data = min(local_today(), winner.contact_due)
    forms["forfeit_form"].reason.choices = [
        SelectChoice(r, winner_outcome_name(r)) for r in winner_rules.FORFEIT_REASONS
    ]
    delivery = forms["delivery_form"]
    delivery.method.choices = [
        SelectChoice(m, delivery_method_name(m)) for m in winner_rules.DELIVERY_METHODS
    ]
    if not delivery.on.data:
        delivery.on.data = local_today()
    return forms


def winner_page(record: Winner, forms: dict[str, Any], status: int = 200):
    """The page of ``record`` with ``forms`` (``page_forms``), answered with ``status``."""
    body = render_template(
        "admin/winner.html",
        winner=record,
        checks=winner_rules.condition_checks(record) if record.status == Winner.DRAWN else None,
        today=local_today(),
        winner_conditions=of_campaign(record.period.campaign),
        may=lambda status: winner_rules.may(record, status),
        publishable=record.status in winner_rules.VERIFIED_STANDING and record.published_at is None,
        awaits_redraw=winner_rules.awaits_redraw(record),
        redraw_from=winner_rules.last_of_chain(record.draw).id,
        standing=winner_rules.public_standing(record),
        **act_context(record),
        **forms,
    )
    return body, status


def act_context(record: Winner) -> dict:
    """What the page shows of the act, and what its buttons ask before they act."""
    act = acts.current_act(record)
    links = acts.active_links(record)
    return {
        "acts_all": acts.acts_of(record),
        "current_act": act,
        "identity": acts.identity_of(record),
        "files": acts.files_of(record),
        "links": links,
        "open_submission": acts.open_submission(act) if act else None,
        "confirms": {
            "verify": confirmations.record_verification(),
            "no_response": confirmations.record_no_response(),
            "link": confirmations.issue_link(record.participant.email or "", bool(links)),
            "revoke": confirmations.revoke_link(),
            "act": confirmations.issue_act(correction=act is not None),
            "accept": confirmations.accept_submission(),
            "return": confirmations.return_submission(),
            "forfeit": confirmations.record_forfeit(),
            "deliver": confirmations.record_delivery(),
            "publish": confirmations.publish_winner(
                record.participant.company_name,
                format_period(record.period),
            ),
            "photo": confirmations.publish_photo(),
        },
    }
