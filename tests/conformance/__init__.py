"""A conformance suite for election-record verifiers (degcore's and any other): see README.md."""
