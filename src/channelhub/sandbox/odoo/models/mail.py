"""The chatter: ``mail.message`` and ``message_post`` on models that inherit ``mail.thread``.

Connectors log what they did on the document ("Imported from Shopify #1001"); ``message_post``
answers the new message's id, like Odoo's ``@api.returns('mail.message', lambda value: value.id)``.
"""

from __future__ import annotations

from typing import Any

from channelhub.sandbox.odoo import fields as f
from channelhub.sandbox.odoo.fields import Field
from channelhub.sandbox.odoo.model import BaseModel
from channelhub.sandbox.odoo.orm import Env

MESSAGE_TYPES = [
    ("email", "Incoming Email"),
    ("comment", "Comment"),
    ("email_outgoing", "Outgoing Email"),
    ("notification", "System notification"),
    ("auto_comment", "Automated Targeted Notification"),
    ("user_notification", "User Specific Notification"),
]


class MailMessage(BaseModel):
    _name = "mail.message"
    _description = "Message"
    _order = "id desc"
    _rec_name = "record_name"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "subject": f.char("Subject"),
            "body": f.Field("html", "Contents", default=""),
            "model": f.char("Related Document Model", index=True),
            "res_id": f.integer("Related Document ID", index=True),
            "record_name": f.char("Message Record Name"),
            "message_type": f.selection("Type", MESSAGE_TYPES, required=True, default="comment"),
            "author_id": f.many2one("res.partner", "Author"),
            "partner_ids": f.many2many("res.partner", "Recipients"),
            "date": f.datetime_field("Date", default=lambda env: env.now()),
        }


def post_message(model: BaseModel, env: Env, record_id: int, values: dict[str, Any]) -> int:
    messages = env["mail.message"]
    author = env["res.users"].rows.get(env.uid, {}).get("partner_id") or False
    label = model.display_names(env, [record_id]).get(record_id, "")
    return messages.create_record(env, {
        "model": model._name, "res_id": record_id, "record_name": label, "author_id": author, **values,
    })  # fmt: skip


def message_ids(env: Env, model_name: str, ids: list[int]) -> dict[int, Any]:
    messages = env["mail.message"]
    by_model = messages.indexes["model"].get(model_name, set())
    result: dict[int, list[int]] = {rid: [] for rid in ids}
    for mid in by_model:
        res_id = messages.rows[mid]["res_id"]
        if res_id in result:
            result[res_id].append(mid)
    return {rid: sorted(found, reverse=True) for rid, found in result.items()}
