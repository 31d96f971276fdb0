"""The accountant's workbench (``arsync serve``): server-rendered pages over the same store, reports and
services as the command line; no logic of its own about what is owed or what goes out.

Needs the ``web`` extra (Starlette, Jinja2, uvicorn, argon2-cffi). ``connector.web.cli`` holds the
click commands and imports none of it until a command runs, so the core install stays light.
"""
