"""Everything that talks to the outside world (Stripe, Twilio, USPS, AI providers, license).

Heavy SDKs are imported lazily inside each adapter. Never imports ``textual`` or ``tui``.
"""
