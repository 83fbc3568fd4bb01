"""The bpverify pytest plugin (pytest11 entry point). Kept light at import time."""
