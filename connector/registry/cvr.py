"""Denmark (CVR): not covered — :func:`connector.registry.registers.registers_for` answers every DK
lookup with ``NOT_COVERED`` and the sentence below.

What exists, and why none of it is wired (details in REGISTERS.md):
- Erhvervsstyrelsen's "System-til-system adgang til CVR-data": free, but not key-based self-service.
  Access is granted per user by e-mail to cvrselvbetjening@erst.dk, after signing a declaration on
  advertising protection (reklamebeskyttelse), with processing time; then HTTP Basic auth against an
  Elasticsearch endpoint (``http://distribution.virk.dk/cvr-permanent/virksomhed/_search``, plain
  HTTP). Its document shape (``Vrvirksomhed.virksomhedMetadata.sammensatStatus``, ``virksomhedsstatus``
  …) is documented only in Erhvervsstyrelsen's PDF guide and by third parties; the status strings
  are unconfirmed. CVR holds no accounts key figures ("nøgletal registreres ikke i CVR"); annual
  reports are separate XBRL publications.
- CVR web services (HentAktuelVirksomhed …) and Datafordeler: need an OCES3 function certificate.
- cvrapi.dk / cvr.dev: third-party services with their own terms, quotas or subscriptions.
To cover DK: obtain system-til-system credentials (user name + password, kept in the environment
via an ``*_env`` key), confirm the field shapes against real answers, and add a client with the
same ``company(org_no)`` interface as ``connector.registry.enhetsregisteret``.
"""

from __future__ import annotations

NOT_COVERED = (
    "DK credit data is not covered: CVR has no free key-based API arsync can use "
    "(system-til-system access needs an application to Erhvervsstyrelsen)"
)
