"""The campaign set-up's prizes and conditions as rows of fields (issue 19, part 4).

Each prize and each condition is one sub-form of a ``FieldList``: the set-up screen
(``CampaignForm``) and a rules version's changes (``RulesSetupChangesForm``) show one
row per prize or condition, a few blank rows to add one, and a "remove" box on each. The
rows are read into the structures ``portal.campaign.setup`` and
``portal.campaign.conditions`` take (``PrizeSpec``, ``Condition``, parameter changes);
only the domain decides whether they are right (``check_prizes``, ``check_fit``), so a
row is read as it is, however wrong, and refused there.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    Form,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional

from portal.campaign import conditions
from portal.campaign.setup import PrizeSpec
from portal.wording.formats import format_period

# Blank rows under the filled ones: as many prizes or conditions added in one save.
BLANK_ROWS = 3
EVERY_PERIOD = "*"
# A date-within window's end: a fixed date, a named end, or the earlier of two.
FIXED = "date"
EARLIER = "campaign-end+period-end"
EARLIER_ENDS = ["campaign-end", "period-end"]
# A number a database column holds (a larger one would fail the write, not be refused);
# no lower bound: a negative one is the domain's refusal.
LARGEST = NumberRange(max=2**31 - 1)


def kind_choices() -> list[SelectChoice]:
    names = {
        "date-by-period-end": _("A date, no later than the period's end"),
        "date-within": _("A date within a window"),
        "count-at-least": _("A count in the period, at least"),
        "number-at-least": _("A number, at least"),
        "legal-form-in": _("A legal form among those listed"),
    }
    return [SelectChoice("", "—")] + [SelectChoice(k, names.get(k, k)) for k in conditions.KINDS]


def slot_choices() -> list[SelectChoice]:
    names = {
        "app_authorized_on": _("Date 1 (the app's authorization)"),
        "ekassa_connected_on": _("Date 2 (the e-cash register's connection)"),
        "paid_months": _("Number 1 (paid months)"),
        "receipts_in_period": _("Number 2 (receipts in the period)"),
        "legal_form": _("Legal form"),
    }
    return [SelectChoice("", "—")] + [SelectChoice(s, names.get(s, s)) for s in conditions.SLOTS]


def end_choices() -> list[SelectChoice]:
    return [
        SelectChoice(FIXED, _("A fixed date")),
        SelectChoice("campaign-start", _("The campaign's first day")),
        SelectChoice("campaign-end", _("The campaign's last day")),
        SelectChoice("period-end", _("The period's last day")),
        SelectChoice(EARLIER, _("The earlier of the campaign's and the period's last day")),
    ]


class ParametersRow(Form):
    """A condition's parameters, each as its own field (those of its kind are read)."""

    code = HiddenField()
    threshold = IntegerField(_l("Threshold, at least"), validators=[Optional(), LARGEST])
    from_end = SelectField(
        _l("Window from"), choices=end_choices, default=FIXED, validate_choice=False
    )
    from_date = DateField(_l("Fixed date from"), validators=[Optional()])
    to_end = SelectField(_l("Window to"), choices=end_choices, default=FIXED, validate_choice=False)
    to_date = DateField(_l("Fixed date to"), validators=[Optional()])
    forms = StringField(
        _l("Legal forms, separated by commas"), validators=[Optional(), Length(max=500)]
    )


class ConditionRow(ParametersRow):
    remove = BooleanField(_l("Remove this condition"))
    code = StringField(_l("Code"), validators=[Optional(), Length(max=64)])
    kind = SelectField(_l("Kind"), choices=kind_choices, validate_choice=False)
    slot = SelectField(_l("Stored as"), choices=slot_choices, validate_choice=False)
    column = StringField(_l("Import column"), validators=[Optional(), Length(max=128)])
    name_kk = StringField(_l("Name in Kazakh"), validators=[Optional(), Length(max=300)])
    name_ru = StringField(_l("Name in Russian"), validators=[Optional(), Length(max=300)])
    holds_kk = TextAreaField(_l("When it holds, in Kazakh"), validators=[Optional()])
    holds_ru = TextAreaField(_l("When it holds, in Russian"), validators=[Optional()])
    fails_kk = TextAreaField(_l("When it fails, in Kazakh"), validators=[Optional()])
    fails_ru = TextAreaField(_l("When it fails, in Russian"), validators=[Optional()])
    missing_kk = TextAreaField(_l("When the figure is missing, in Kazakh"), validators=[Optional()])
    missing_ru = TextAreaField(
        _l("When the figure is missing, in Russian"), validators=[Optional()]
    )
    early_kk = TextAreaField(_l("When the date is too early, in Kazakh"), validators=[Optional()])
    early_ru = TextAreaField(_l("When the date is too early, in Russian"), validators=[Optional()])


class PrizeRow(Form):
    remove = BooleanField(_l("Remove this prize"))
    position = IntegerField(_l("Position"), validators=[Optional(), LARGEST])
    period = SelectField(
        _l("Period"),
        choices=lambda: period_choices([]),  # the campaign's: ``set_period_choices``
        default=EVERY_PERIOD,
        validate_choice=False,
    )
    supplier = StringField(_l("Supplier"), validators=[Optional(), Length(max=300)])
    name_kk = StringField(_l("Name in Kazakh"), validators=[Optional(), Length(max=300)])
    name_ru = StringField(_l("Name in Russian"), validators=[Optional(), Length(max=300)])
    nominal_kzt = IntegerField(_l("Nominal value, KZT"), validators=[Optional(), LARGEST])
    count = IntegerField(_l("Count a period"), default=1, validators=[Optional(), LARGEST])
    vat_included = BooleanField(_l("VAT included"), default=True)


# --- prizes ------------------------------------------------------------------------------------


def period_choices(periods) -> list[SelectChoice]:
    """Every period, or one of the campaign's (``format_period`` names them)."""
    return [SelectChoice(EVERY_PERIOD, _("Every period"))] + [
        SelectChoice(p.key, format_period(p)) for p in periods
    ]


def fill_prizes(rows, specs: list[PrizeSpec], periods) -> None:
    """Show ``specs`` as rows, then the blank ones."""
    while rows.entries:
        rows.pop_entry()
    for spec in specs:
        rows.append_entry(
            {
                "position": spec.position,
                "period": spec.period or EVERY_PERIOD,
                "supplier": spec.supplier,
                "name_kk": spec.name_kk,
                "name_ru": spec.name_ru,
                "nominal_kzt": spec.nominal_kzt,
                "count": spec.count,
                "vat_included": spec.vat_included,
            }
        )
    add_blank_rows(rows)
    set_period_choices(rows, periods)


def add_blank_rows(rows) -> None:
    for _row in range(BLANK_ROWS):
        rows.append_entry()


def set_period_choices(rows, periods) -> None:
    choices = period_choices(periods)
    for row in rows:
        row.form.period.choices = choices


def _blank_prize(row) -> bool:
    return not any(
        (
            row.position.data is not None,
            (row.supplier.data or "").strip(),
            (row.name_kk.data or "").strip(),
            (row.name_ru.data or "").strip(),
            row.nominal_kzt.data is not None,
        )
    )


def prize_specs(rows) -> list[PrizeSpec]:
    """The prizes the rows give: those not removed nor left blank, as they are (a missing
    number is 0, which ``check_prizes`` refuses)."""
    specs = []
    for row in (entry.form for entry in rows):
        if row.remove.data or _blank_prize(row):
            continue
        specs.append(
            PrizeSpec(
                position=row.position.data or 0,
                period=None if row.period.data in (EVERY_PERIOD, "", None) else row.period.data,
                supplier=(row.supplier.data or "").strip(),
                name_kk=(row.name_kk.data or "").strip(),
                name_ru=(row.name_ru.data or "").strip(),
                nominal_kzt=row.nominal_kzt.data or 0,
                count=row.count.data if row.count.data is not None else 0,
                vat_included=bool(row.vat_included.data),
            )
        )
    return specs


def prize_row_of(rows, refusal) -> int | None:
    """The row a prize refusal is about (its detail is the prize's position), if any."""
    if refusal.code not in ("prize-field", "prize-number"):
        return None
    for index, entry in enumerate(rows):
        row = entry.form
        if (
            not row.remove.data
            and not _blank_prize(row)
            and str(row.position.data or 0) == refusal.detail
        ):
            return index
    return None


# --- conditions --------------------------------------------------------------------------------


def _end_fields(end) -> tuple[str, object]:
    """A window's end as its select and its date field."""
    if isinstance(end, list):
        if sorted(end) == sorted(EARLIER_ENDS):
            return EARLIER, None
        end = end[0] if len(end) == 1 else end
    if end in conditions.ENDS:
        return end, None
    try:
        return FIXED, date.fromisoformat(end)
    except (TypeError, ValueError):
        return FIXED, None


def _end_value(choice: str, day) -> object:
    if choice == EARLIER:
        return list(EARLIER_ENDS)
    if choice in conditions.ENDS:
        return choice
    return day.isoformat() if day else ""


def parameter_fields(kind: str, params: dict) -> dict:
    """A kind's parameters as the row's fields."""
    fields: dict = {}
    if conditions.KINDS.get(kind) == "number":
        fields["threshold"] = params.get("min")
    elif kind == "date-within":
        fields["from_end"], fields["from_date"] = _end_fields(params.get("from"))
        fields["to_end"], fields["to_date"] = _end_fields(params.get("to"))
    elif kind == "legal-form-in":
        fields["forms"] = ", ".join(params.get("forms") or [])
    return fields


def parameters_of(kind: str, row) -> dict:
    """The kind's parameters from the row's fields (unchecked: ``check_fit`` judges)."""
    if conditions.KINDS.get(kind) == "number":
        return {"min": row.threshold.data}  # None when left empty: refused
    if kind == "date-within":
        return {
            "from": _end_value(row.from_end.data, row.from_date.data),
            "to": _end_value(row.to_end.data, row.to_date.data),
        }
    if kind == "legal-form-in":
        forms = [f.strip() for f in (row.forms.data or "").split(",")]
        return {"forms": [f for f in forms if f]}
    return {}


TEXTS = ("name", "holds", "fails", "missing", "early")


def fill_conditions(rows, chosen: list[conditions.Condition]) -> None:
    """Show the conditions as rows, then the blank ones."""
    while rows.entries:
        rows.pop_entry()
    for c in chosen:
        data = {"code": c.code, "kind": c.kind, "slot": c.slot, "column": c.column}
        for text in TEXTS:
            for lang in ("kk", "ru"):
                data[f"{text}_{lang}"] = (getattr(c, text) or {}).get(lang) or ""
        rows.append_entry({**data, **parameter_fields(c.kind, c.params)})
    add_blank_rows(rows)


def _blank_condition(row) -> bool:
    filled = (row.code, row.kind, row.column, row.name_kk, row.name_ru)
    return not any((f.data or "").strip() for f in filled)


def condition_list(rows) -> list[conditions.Condition]:
    """The conditions the rows give, in their order: those not removed nor left blank."""
    chosen = []
    for row in (entry.form for entry in rows):
        if row.remove.data or _blank_condition(row):
            continue
        kind = row.kind.data or ""
        texts = {
            text: {
                lang: (getattr(row, f"{text}_{lang}").data or "").strip() for lang in ("kk", "ru")
            }
            for text in TEXTS
        }
        chosen.append(
            conditions.Condition(
                code=(row.code.data or "").strip(),
                kind=kind,
                slot=row.slot.data or "",
                column=(row.column.data or "").strip(),
                params=parameters_of(kind, row),
                **texts,
            )
        )
    return chosen


def condition_row_of(rows, refusal) -> int | None:
    """The row a conditions refusal is about (its detail is a code or a column), if any."""
    if not refusal.detail:
        return None
    for index, entry in enumerate(rows):
        row = entry.form
        if row.remove.data or _blank_condition(row):
            continue
        if refusal.detail in ((row.code.data or "").strip(), (row.column.data or "").strip()):
            return index
    return None


# --- a rules version's changes to the parameters ------------------------------------------------


def fill_parameters(rows, current: list[conditions.Condition], changes: dict) -> None:
    """One row per condition in force, its parameters as the version changes them (or as
    they are)."""
    while rows.entries:
        rows.pop_entry()
    for c in current:
        params = {**c.params, **changes.get(c.code, {})}
        rows.append_entry({"code": c.code, **parameter_fields(c.kind, params)})


def parameter_changes(rows, current: list[conditions.Condition]) -> dict[str, dict]:
    """``{code: parameters}`` for each condition whose parameters the rows change (a row
    whose code is not in force is kept: ``with_parameters`` refuses it)."""
    kinds = {c.code: c for c in current}
    changes = {}
    for row in (entry.form for entry in rows):
        code = (row.code.data or "").strip()
        c = kinds.get(code)
        if c is None:
            changes[code] = {}
            continue
        params = parameters_of(c.kind, row)
        if params != normal_parameters(c):
            changes[code] = params
    return changes


def normal_parameters(c: conditions.Condition) -> dict:
    """The condition's parameters as its row gives them back (a window's "earlier of" in
    one order): what a row left as it was is compared with."""
    return parameters_of(c.kind, ParametersRow(data=parameter_fields(c.kind, c.params)))


def as_rows_give(chosen: list[conditions.Condition]) -> list[conditions.Condition]:
    """The conditions as their rows, sent back untouched, give them."""
    return [
        conditions.Condition.from_dict({**c.as_dict(), "params": normal_parameters(c)})
        for c in chosen
    ]
