"""Users, roles and sign-in (no Qt). See docs/station-admin.md, "Users and roles".

Public API::

    Role, LOGIN_ROLES
    UserStore, User, Actor, check_name
    AuthSession, ActionGate (permission check + audit entry + lock after Apply)
    AuthSettings, load_settings
    PERMISSIONS, ACTIONS, can, require, least_role, allowed_actions
    check_secret, ScryptParams
    AuthError, BadCredentials, LockedOut, PermissionDenied, SettingsError
"""

from core.auth.errors import AuthError, BadCredentials, LockedOut, PermissionDenied, SettingsError
from core.auth.gate import ActionGate
from core.auth.passwords import ScryptParams, check_secret
from core.auth.permissions import ACTIONS, PERMISSIONS, allowed_actions, can, least_role, require
from core.auth.roles import LOGIN_ROLES, Role
from core.auth.session import AuthSession
from core.auth.settings import AuthSettings, load_settings
from core.auth.users import Actor, User, UserStore, check_name

__all__ = [
    "ACTIONS", "LOGIN_ROLES", "PERMISSIONS", "ActionGate", "Actor", "AuthError", "AuthSession",
    "AuthSettings", "BadCredentials", "LockedOut", "PermissionDenied", "Role", "ScryptParams",
    "SettingsError", "User", "UserStore", "allowed_actions", "can", "check_name",
    "check_secret", "least_role", "load_settings", "require",
]
