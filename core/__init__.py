"""The business core of TSSG CRM: models, services, money, numbering, queries.

Free of Textual and of HTTP clients (``tests/test_import_hygiene.py`` enforces it): the TUI and
the CLI call the services here, which own transactions, validation and the audit trail.
"""
