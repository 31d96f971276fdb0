"""The accountant's workbench (``arsync serve``): server-rendered pages over the same store, reports and
services as the command line; no logic of its own about what is owed or what goes out.

- ``pages``: Today's queue, the aging report, the activity log; ``clients``: a client's and a customer's
  pages (decisions afresh with ``arsync explain``'s text); ``data``: what they read, each through the
  function the matching command uses;
- ``actions``: approve / reject / undo a case (``collection.approval``); ``records``: open / resolve a
  dispute, add / remove an agreement, add / end an exclusion (``actions.manual``) — approver only, client
  checked, CSRF-checked, recorded in the audit trail by the service;
- ``context``, ``sessions``, ``login``, ``users``: who is asking and what they may do; ``app``: routes and
  headers; ``serve``/``cli``: ``arsync serve`` and ``arsync users`` (registered by ``connector.cli``).

Needs the ``web`` extra (Starlette, Jinja2, uvicorn, argon2-cffi, python-multipart). ``connector.web.cli``
imports none of it until a command runs, so the core install stays light.
"""
