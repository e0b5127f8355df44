"""Who is told about what (DESIGN "Layers and registries"): apps register a rule per event,
services call :func:`portal.notifications.service.notify` inside their transaction, and a
django-q2 job sends the queued e-mails after the commit — never inside the request.

The outbox (:class:`portal.notifications.models.Notification`, one row per recipient) makes a
job that runs twice harmless (a sent row is never sent again) and is the record staff and the
DPO look at.
"""
