"""Identifier normalization: e-mails and phones to one canonical form, once per distinct value."""
