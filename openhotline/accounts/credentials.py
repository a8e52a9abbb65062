"""Issuing a person's sign-in credentials: a generated password and a fresh TOTP device."""

import secrets

from django_otp.plugins.otp_totp.models import TOTPDevice

from openhotline.accounts.models import Role, User


def issue_credentials(
    user: User, role: Role, *, password_bytes: int = 18
) -> tuple[str, TOTPDevice]:
    """Give `user` the role, a new password and a new TOTP secret (any old device goes).
    Returns the password (shown once, stored only hashed) and the device."""
    password = secrets.token_urlsafe(password_bytes)
    user.role = role  # User.save derives Django's admin flags from the role
    user.set_password(password)
    user.save()
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return password, device
