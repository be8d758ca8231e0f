"""Tests of the public site (degcore.site)."""
