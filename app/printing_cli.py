"""flask certificates print: certificates for a whole unit."""
