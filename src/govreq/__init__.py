"""govreq: receive, review case by case, and account for government requests for user data."""

__version__ = "0.1.0"
