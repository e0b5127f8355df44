"""Personal accounts: one per natural person, e-mail login, first and last name required."""

from __future__ import annotations

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.tenancy import TenantQuerySet


class UserQuerySet(TenantQuerySet):
    pass


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password) if password else user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("E-Mail-Adresse"), unique=True)
    first_name = models.CharField(_("Vorname"), max_length=150)
    last_name = models.CharField(_("Nachname"), max_length=150)
    language = models.CharField(
        _("Sprache"), max_length=8, default="de",
        choices=[("de", _("Deutsch")), ("en", _("Englisch"))],
    )
    is_active = models.BooleanField(
        _("aktiv"), default=True,
        help_text=_(
            "Deaktivierte Personen können sich nicht anmelden; ihre Sitzungen enden sofort."
        ),
    )
    is_staff = models.BooleanField(
        _("Zugang zur Verwaltung"), default=False,
        help_text=_("Wird aus der Rolle abgeleitet: Anbieter-Rollen, DSB und Partner-Support."),
    )
    date_joined = models.DateTimeField(_("angelegt am"), default=timezone.now)
    deactivated_at = models.DateTimeField(_("deaktiviert am"), null=True, blank=True)
    invited_by = models.ForeignKey(
        "self", verbose_name=_("eingeladen von"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )

    objects = UserManager()
    tenant_lookup = "memberships__organisation"

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        verbose_name = _("Person")
        verbose_name_plural = _("Personen")
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]
        permissions = [("reset_mfa", _("Kann die Zwei-Faktor-Anmeldung einer Person zurücksetzen"))]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name
