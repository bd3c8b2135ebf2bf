"""The AI assistant (Sovereign tier): providers over plain httpx (Anthropic, OpenAI and
OpenAI-compatible endpoints), the question → structured queries → answer loop, optional
redaction, proposed actions that run only when confirmed, and the local exchange log.

The model never sees the database: it writes queries in the language of :mod:`core.query`,
which run here, read-only.
"""
