"""Staff accounts for admin tests, with exactly the permissions a test names."""

from django.contrib.auth.models import Permission, User


def staff_user(username: str, *codenames: str, is_staff: bool = True) -> User:
    """A user (staff unless told otherwise) holding ``matches.<codename>`` permissions."""
    user = User.objects.create_user(username, password="pw-123-xyz", is_staff=is_staff)
    perms = Permission.objects.filter(content_type__app_label="matches", codename__in=codenames)
    if len(perms) != len(codenames):
        raise AssertionError(f"unknown permissions among {codenames}")
    user.user_permissions.add(*perms)
    return User.objects.get(pk=user.pk)  # a fresh instance: no stale permission cache


def controller(username: str = "ops") -> User:
    """Staff who may see matches and act on them."""
    return staff_user(username, "view_match", "change_match", "control_match",
                      "view_auditlog")  # fmt: skip


def viewer(username: str = "watcher") -> User:
    """Staff who may look at matches but not act on them."""
    return staff_user(username, "view_match", "change_match", "view_auditlog")
