"""Domain entities and rules: no AWS, no HTTP, no persistence shapes."""
