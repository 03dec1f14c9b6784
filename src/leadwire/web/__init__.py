"""The engine's web app: the Pinterest receiver and the runs / inbox JSON API.

`WebServices.open(settings)` then `create_app(services)`; serve it; `services.close()`.
"""

from leadwire.web.app import create_app
from leadwire.web.services import WebServices
from leadwire.web.tokens import ApiTokens, ensure_api_token, issue_api_token

__all__ = ["ApiTokens", "WebServices", "create_app", "ensure_api_token", "issue_api_token"]
