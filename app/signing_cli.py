"""flask certificates keygen|verify: signing keys and offline verification."""
