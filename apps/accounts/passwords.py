"""The rule for the owner's master password, used by setup and by Django's validators."""

from __future__ import annotations

from django.core.exceptions import ValidationError

MIN_LENGTH = 12
MAX_LENGTH = 256
COMMON_PASSWORDS = frozenset(
    {
        "password1234",
        "123456789012",
        "qwertyuiop12",
        "aniworld1234",
        "passwordpassword",
        "letmein12345",
        "administrator",
        "iloveanime123",
    }
)


def password_problems(password: str) -> list[str]:
    """Every reason the password is too weak, in words the owner understands (empty when fine)."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Use at least {MIN_LENGTH} characters (this one has {len(password)}).")
    if len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    classes = sum(
        [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )
    if classes < 3:
        problems.append("Mix at least three of: lower-case letters, upper-case letters, digits, symbols.")
    if password and len(set(password)) < 5:
        problems.append("Use more different characters; repeated characters are easy to guess.")
    if password.lower() in COMMON_PASSWORDS:
        problems.append("This password is too common.")
    return problems


class MasterPasswordValidator:
    """Django AUTH_PASSWORD_VALIDATORS entry so `changepassword` and the admin apply the same rule."""

    def validate(self, password: str, user: object = None) -> None:
        problems = password_problems(password)
        if problems:
            raise ValidationError(problems, code="weak_password")

    def get_help_text(self) -> str:
        return f"At least {MIN_LENGTH} characters mixing three of: lower case, upper case, digits, symbols."
