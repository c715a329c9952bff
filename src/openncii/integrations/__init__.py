"""Adapters that let other trust-and-safety tools use an OpenNCII server.

Each one needs the other tool installed (an optional extra); nothing else in OpenNCII imports
them. ``openncii.integrations.threatexchange``: an exchange for python-threatexchange and
Meta's Hasher-Matcher-Actioner (``pip install 'openncii[threatexchange]'``).
"""
