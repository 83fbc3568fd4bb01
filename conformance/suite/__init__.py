"""The conformance suite as pytest tests: one test id per check."""
