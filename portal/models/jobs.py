"""What every job-driven record shares: who claimed it, when, and whether that worker lives.

A record that django-q2 jobs move through steps (``uploaded`` → ``previewing``, ``confirmed`` →
``applying``…) carries the claim of the worker that runs the current step. ``heartbeat_at`` is
the step's last sign of life: set when the step is queued and when it is claimed, refreshed
while the worker works. A step whose sign of life is older than ``PORTAL_JOB_STALE_SECONDS``
belongs to a worker that died (killed, out of memory, machine gone) or to a lost task. Its
transaction rolled back with it, so a later run may take the claim over and start again, up to
``PORTAL_JOB_MAX_ATTEMPTS`` times; after that the record is marked failed with a message.
``portal.jobs`` holds the functions, docs/adr/0008 the reasons.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ClaimedJob(models.Model):
    claimed_at = models.DateTimeField(_("übernommen am"), null=True, blank=True)
    claimed_by = models.CharField(_("übernommen von (Prozess)"), max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(_("letztes Lebenszeichen"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("Versuche"), default=0)

    class Meta:
        abstract = True
