"""Privacy: erasure requests, the suppression list, retention of anonymous and third-party data."""
