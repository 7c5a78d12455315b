"""The domain: plain typed functions that flush but never commit."""
