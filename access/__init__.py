"""Access: who is calling, for every service. Portal clients and their bearer tokens, officers,
their password logins and sessions, and the falcon middleware that puts a
:class:`core.auth.Principal` on every request.

It sits on ``core`` and knows nothing of certificates or applications: what an officer may do
(roles, certification points) is decided by the service that owns the route (enrollment's
authorisation matrix); the points an officer belongs to are enrollment's and reach the principal
through an injected lookup (:data:`access.principals.OfficerPoints`).
"""
