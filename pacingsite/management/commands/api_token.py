"""``manage.py api_token``: issue, list and revoke API tokens."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from pacingsite.models import ApiToken


class Command(BaseCommand):
    help = "Issue, list or revoke API tokens. The key is printed once, when issued; only its digest is stored."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser("issue", help="issue a token for a user and print its key")
        issue.add_argument("--user", required=True, help="user name the token acts as")
        issue.add_argument("--description", default="", help="what the token is for")
        issue.add_argument("--expires-days", type=int, default=None, help="days until it expires (default: never)")
        listing = sub.add_parser("list", help="list tokens (prefix, user, description, dates)")
        listing.add_argument("--user", default=None, help="only this user's tokens")
        revoke = sub.add_parser("revoke", help="revoke tokens by key prefix (as listed) or all of a user's")
        group = revoke.add_mutually_exclusive_group(required=True)
        group.add_argument("prefix", nargs="?", help="the token's prefix, e.g. pc_Ab3dEf9")
        group.add_argument("--all-of", metavar="USER", help="revoke every token of this user")

    def handle(self, *args, action, **options):
        return getattr(self, f"do_{action}")(**options)

    def do_issue(self, user, description, expires_days, **_):
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"--user: no user named '{user}'.")
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days: must be 1 or more.")
        expires = timezone.now() + timedelta(days=expires_days) if expires_days else None
        token, key = ApiToken.issue(account, description=description, expires=expires)
        self.stdout.write(key)
        self.stderr.write(f"Issued token {token.prefix}… for {user}; the key above is not shown again.")

    def do_list(self, user, **_):
        tokens = ApiToken.objects.select_related("user")
        if user:
            tokens = tokens.filter(user__username=user)
        for token in tokens:
            expires = token.expires.isoformat(timespec="seconds") if token.expires else "never"
            used = token.last_used.isoformat(timespec="seconds") if token.last_used else "never"
            self.stdout.write(f"{token.prefix}  {token.user.username}  expires {expires}  last used {used}  "
                              f"{token.description}")

    def do_revoke(self, prefix, all_of, **_):
        if all_of:
            deleted, _ = ApiToken.objects.filter(user__username=all_of).delete()
        else:
            matches = ApiToken.objects.filter(prefix=prefix[:10])
            if matches.count() > 1:
                raise CommandError(f"'{prefix}' matches several tokens; revoke with --all-of USER instead.")
            deleted, _ = matches.delete()
        if not deleted:
            raise CommandError("No such token.")
        self.stdout.write(f"Revoked {deleted} token(s).")
