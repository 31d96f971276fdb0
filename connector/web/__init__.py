"""The accountant's workbench (``arsync serve``): server-rendered pages over the same store, reports and
services as the command line; no logic of its own about what is owed or what goes out.

Needs the ``web`` extra (Starlette, Jinja2, uvicorn, argon2-cffi). ``connector.web.cli`` holds the
click commands and imports none of it until a command runs, so the core install stays light.

Still to wire (outside this package):
- ``connector.web.cli.serve`` and ``connector.web.cli.users`` are registered by the CLI package
  (``main.add_command``);
- the push step skips approved cases inside their undo window: ``connector.collection.approval.may_push``;
- ``arsync cases approve/reject`` call ``connector.collection.approval.decide_cases`` (with an actor).
"""
