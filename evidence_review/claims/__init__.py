"""Claims: the registry, the evidence base, the verdict rules."""
